"""TaskBar: the reason a run cannot start is shown, and goes away once it can."""

from desktop.widgets.task_bar import TaskBar


def test_reason_shows_while_not_ready_and_clears_once_ready(qtbot):
    bar = TaskBar("Estimate")
    qtbot.addWidget(bar)
    bar.set_ready(False, "Open a dataset first.")
    assert not bar.run_button.isEnabled() and bar.message.text() == "Open a dataset first."
    bar.set_ready(True)
    assert bar.run_button.isEnabled() and bar.message.text() == ""


def test_a_result_message_is_kept_when_readiness_is_confirmed(qtbot):
    bar = TaskBar()
    qtbot.addWidget(bar)
    bar.set_ready(False, "Open or train a model first.")
    bar.set_ready(True)
    bar.message.setText("NLL 241.8 nats")  # what a finished run reported
    bar.set_ready(True)
    assert bar.message.text() == "NLL 241.8 nats"
