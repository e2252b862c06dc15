"""Helpers of the browser tests (Playwright pages)."""

from __future__ import annotations

from typing import Any


def sign_in(page: Any, base: str, phone: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("input[name=username]").fill(phone)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(f"{base}/")
