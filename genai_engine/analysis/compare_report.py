"""The comparison as one self-contained HTML page (table, sample grids, measured guide) and CSV."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from genai_engine.analysis.compare import ComparisonResult, table
from genai_engine.analysis.decision_guide import decision_guide
from genai_engine.files import atomic_write_text
from genai_engine.report import CSS, png_data_uri, write_report
from genai_engine.sampling import image_grid


def comparison_section(result: ComparisonResult) -> str:
    """An HTML section: the table, the grids side by side and the guide."""
    head = "".join(f"<th>{escape(r.label)}</th>" for r in result.rows)
    body = "".join(f"<tr><th>{escape(name)}</th>{''.join(f'<td>{escape(c)}</td>' for c in cells)}</tr>"
                   for name, cells in table(result))
    grids = "".join(
        f'<figure><img class="pix" alt="samples of {escape(r.label)}" '
        f'src="{png_data_uri(image_grid(r.grid, 4), 3)}"><figcaption>{escape(r.label)}</figcaption></figure>'
        for r in result.rows if len(r.grid))
    def verdict(g) -> str:
        return f"<b>{escape(g.verdict)}</b>" if g.agrees is False else escape(g.verdict)

    guide = "".join(f"<li><b>{escape(g.topic)}</b>: {escape(g.measured)}. <i>Guide: {escape(g.claim)}</i> "
                    f"— {verdict(g)}.</li>" for g in decision_guide([r.to_dict() for r in result.rows]))
    return (f"<section><h2>Families compared on {escape(str(result.dataset.get('name')))}</h2>"
            f"<p>{result.n:,} samples per model, seed {result.seed}, real statistics from the test split; "
            f"features: {escape(result.feature_label)}.</p>"
            f"<table><tr><th></th>{head}</tr>{body}</table><div>{grids}</div>"
            f"<h3>Decision guide, measured</h3><ul>{guide}</ul></section>")


def write_comparison_html(result: ComparisonResult, path: str | os.PathLike) -> Path:
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>GenAI Lab comparison</title>"
            f"<style>{CSS}</style></head><body><main>{comparison_section(result)}</main></body></html>\n")
    return write_report(html, path)


def write_comparison_csv(result: ComparisonResult, path: str | os.PathLike) -> Path:
    return atomic_write_text(path, result.to_csv())
