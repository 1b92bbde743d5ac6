"""Compare ▸ the decision guide as measured, beside the course's general claims."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

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
        colours = {True: "#1b7f3b", False: "#b00020", None: "#777"}
        items = "".join(
            f"<li><b>{escape(g.topic)}</b>: {escape(g.measured)}<br><span style='color:#555'>Guide: "
            f"{escape(g.claim)}</span> — <span style='color:{colours[g.agrees]}'>{escape(g.verdict)}"
            "</span></li>" for g in self.lines)
        self.setText(f"<b>Decision guide, measured on {escape(str(result.dataset.get('name')))}</b>"
                     f"<ul style='margin-left:-20px'>{items}</ul>")
