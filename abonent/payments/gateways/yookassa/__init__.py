"""YooKassa through the official `yookassa` SDK."""
