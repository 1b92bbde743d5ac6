"""The Analyze tab: questions to ask a trained model, beyond what other tools offer.

Four sections, each a thin view over ``genai_engine.analysis`` run on the worker pool:

- **Likelihood**: importance-weighted NLL estimates for several k beside the ELBO.
- **Memorisation**: generated samples beside their nearest training images.
- **Anomalies**: per-class score histograms, typical images, ROC AUC against a second set.
- **Report**: a self-contained HTML export of the run (with the latest likelihood estimate).
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from desktop.state import AppState
from desktop.widgets.anomaly_panel import AnomalyPanel
from desktop.widgets.likelihood_panel import LikelihoodPanel
from desktop.widgets.memorisation_panel import MemorisationPanel
from desktop.widgets.report_panel import ReportPanel

TITLE = "Analyze"


class AnalyzeTab(QWidget):
    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.likelihood = LikelihoodPanel(state)
        self.memorisation = MemorisationPanel(state)
        self.anomaly = AnomalyPanel(state)
        self.report = ReportPanel(state)

        self.sections = QTabWidget()
        self.sections.setObjectName("analyze_sections")
        self.sections.setDocumentMode(True)
        self.sections.addTab(self.likelihood, "Likelihood")
        self.sections.addTab(self.memorisation, "Memorisation")
        self.sections.addTab(self.anomaly, "Anomalies")
        self.sections.addTab(self.report, "Report")
        tips = ("How probable the model finds held-out images (IWAE bound vs ELBO)",
                "Does the model copy its training images?",
                "Which images does the model find unusual, and can it spot foreign data?",
                "Export the run as one self-contained HTML page")
        for index, tip in enumerate(tips):
            self.sections.setTabToolTip(index, tip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.sections)

        self.likelihood.result_ready.connect(self.report.set_likelihood)
        state.model_changed.connect(lambda _model: self.report.set_likelihood(None))
