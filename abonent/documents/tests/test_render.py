"""The Typst side on its own: escaping into the entry source, threads, fonts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pymupdf

from abonent.documents import render


def test_typst_string_escapes_only_what_typst_reads_as_special() -> None:
    assert render.typst_string('a"b\\c#d[e]') == '"a\\"b\\\\c#d[e]"'


def test_each_thread_gets_its_own_compiler_and_all_render() -> None:
    def work(n: int) -> tuple[int, bytes]:
        pdf = render.compile_pdf(f"Поток № {n}")
        return id(render.compiler()), pdf

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(16)))

    assert all(pdf.startswith(b"%PDF-") for _, pdf in results)
    assert len({compiler for compiler, _ in results}) > 1
    with pymupdf.open(stream=results[7][1], filetype="pdf") as doc:
        assert doc[0].get_text().strip() == "Поток № 7"


def test_only_fonts_embedded_in_typst_are_used() -> None:
    pdf = render.compile_pdf('#set text(font: "Libertinus Serif")\nЁлка')
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        fonts = {font[3] for font in doc[0].get_fonts()}
    assert len(fonts) == 1
    assert "LibertinusSerif" in next(iter(fonts))
