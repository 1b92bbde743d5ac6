"""Compare ▸ the decision guide as measured, beside the course's general claims."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop import style
from genai_engine.analysis.compare import ComparisonResult
from genai_engine.analysis.decision_guide import decision_guide

INTRO = ("The course's decision guide, checked on your data: run a comparison and each trade-off "
         "(fidelity, coverage, speed, likelihood, editability) is stated as measured, beside the "
         "general claim.")


class DecisionGuideView(QLabel):
    def __init__(self, parent=None) -> None:
        super().__init__(INTRO, parent)
        self.setObjectName("decision_guide")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.lines = []

    def set_result(self, result: ComparisonResult | None) -> None:
        self.lines = decision_guide([r.to_dict() for r in result.rows]) if result else []
        if not self.lines:
            self.setText(INTRO)
            return
        colours = {True: style.success_colour(), False: style.error_colour(), None: style.muted_colour()}
        items = "".join(
            f"<li><b>{escape(g.topic)}</b>: {escape(g.measured)}<br>"
            f"{style.span(f'Guide: {escape(g.claim)}', style.muted_colour())} — "
            f"{style.span(escape(g.verdict), colours[g.agrees])}</li>" for g in self.lines)
        self.setText(f"<b>Decision guide, measured on {escape(str(result.dataset.get('name')))}</b>"
                     f"<ul style='margin-left:-20px'>{items}</ul>")
