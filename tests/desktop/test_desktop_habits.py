"""Desktop habits: drops open files, Open Recent, plot exports, splitter layout, colours, xcb advice."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QSplitter

import desktop.app
from desktop import launcher, style
from desktop.loaders import path_kind
from desktop.main_window import MainWindow
from desktop.settings import RECENT_MAX
from desktop.tabs.train_tab import TrainTab
from desktop.widgets.explore_map import ExploreMapPanel
from desktop.widgets.loss_plot import LossPlot

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def window(qtbot, app_state, settings):
    settings.confirm_close = False
    win = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(win)
    win.show()
    return win


def _drop(widget, paths) -> bool:
    """Drag ``paths`` over ``widget`` and drop them as a file manager does; whether it took them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(10, 10), *args)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():  # Qt delivers no drop to a widget that refused the drag
        return False
    drop = QDropEvent(QPointF(10, 10), *args)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def test_paths_are_told_apart(tmp_path):
    assert path_kind(tmp_path) == "dataset"
    assert path_kind(tmp_path / "model.PT") == "checkpoint"
    for name in ("set.npz", "train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte", "a.idx", "corpus.txt"):
        assert path_kind(tmp_path / name) == "dataset", name
    assert path_kind(tmp_path / "notes.md") is None


def test_dropping_a_checkpoint_opens_it_and_a_folder_opens_as_dataset(qtbot, window, app_state,
                                                                     tiny_checkpoint, tmp_path,
                                                                     monkeypatch):
    assert window.acceptDrops()
    assert _drop(window, [tiny_checkpoint])
    qtbot.waitUntil(lambda: app_state.checkpoint is not None, timeout=30_000)
    assert Path(app_state.checkpoint.path) == tiny_checkpoint
    qtbot.waitUntil(lambda: not app_state.runner.active, timeout=30_000)
    opened = []
    monkeypatch.setattr(window.loader, "open_dataset", lambda spec, **_: opened.append(spec))
    assert _drop(window, [tmp_path, tmp_path / "notes.md"])
    assert opened == [str(tmp_path)]
    assert not _drop(window, [tmp_path / "notes.md"])


def test_recent_files_newest_first_capped_and_missing_ones_dropped(qtbot, window, settings,
                                                                    tiny_checkpoint, tmp_path):
    for i in range(RECENT_MAX + 3):
        settings.add_recent("checkpoints", str(tmp_path / f"gone-{i}.pt"))
    settings.add_recent("checkpoints", str(tiny_checkpoint))
    settings.add_recent("datasets", "fashion-mnist")
    recent = settings.recent("checkpoints")
    assert len(recent) == RECENT_MAX and recent[0] == str(tiny_checkpoint)
    assert recent[1] == str(tmp_path / f"gone-{RECENT_MAX + 2}.pt")

    window.recent_menu.aboutToShow.emit()
    titles = [a.text() for a in window.recent_menu.actions() if not a.isSeparator()]
    assert titles[0] == "Fashion-MNIST (embedded)" and titles[1] == str(tiny_checkpoint)
    gone = recent[1]
    window.open_recent("checkpoints", gone)
    assert gone not in settings.recent("checkpoints")
    assert "no longer there" in window.statusBar().currentMessage()

    next(a for a in window.recent_menu.actions() if a.text() == str(tiny_checkpoint)).trigger()
    qtbot.waitUntil(lambda: window.state.checkpoint is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not window.state.runner.active, timeout=30_000)
    assert settings.recent("checkpoints")[0] == str(tiny_checkpoint)


def test_loss_history_exports_as_csv(qtbot, ready_state, tmp_path):
    tab = TrainTab(ready_state)
    qtbot.addWidget(tab)
    history = ready_state.checkpoint.history
    written = tab.export_history_csv(tmp_path / "loss.csv")
    rows = list(csv.reader(written.open()))
    keys = [k for k in history if k != "epoch"]
    assert rows[0] == ["epoch", *keys] and "train_loss" in keys
    assert len(rows) == 1 + len(history["train_loss"])
    column = rows[0].index("test_loss")
    assert [float(r[column]) for r in rows[1:]] == pytest.approx(history["test_loss"])
    # the plots' right-click menus are on and offer the export
    assert tab.plot.plots[0].menuEnabled()
    assert any(a.text().startswith("Export loss history")
               for a in tab.plot.plots[0].getViewBox().menu.actions())


def test_latent_codes_export_for_the_tensorboard_projector(qtbot, app_state, tmp_path):
    panel = ExploreMapPanel(app_state)
    qtbot.addWidget(panel)
    codes = np.array([[0.5, -1.25, 2.0], [1.0, 0.0, -3.5]], np.float32)
    panel.encoded = SimpleNamespace(codes=codes, labels=np.array([1, 0]))
    panel.label_names = ["cat", "dog"]
    vectors, metadata = panel.export_codes(tmp_path / "projector")
    lines = vectors.read_text().splitlines()
    assert [[float(v) for v in line.split("\t")] for line in lines] == codes.tolist()
    assert metadata.read_text().splitlines() == ["label\tclass", "1\tdog", "0\tcat"]
    panel.encoded = SimpleNamespace(codes=codes, labels=None)
    assert panel.export_codes(tmp_path / "unlabelled") == [tmp_path / "unlabelled" / "vectors.tsv"]
    assert panel.map.getPlotItem().menuEnabled()
    assert panel.export_action in panel.map.menu.actions()


def test_splitter_positions_survive_a_restart(qtbot, app_state, settings):
    settings.confirm_close = False
    first = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(first)
    first.show()
    splitter = first.explore_tab.findChild(QSplitter)
    total = sum(splitter.sizes())
    splitter.setSizes([total // 4, total - total // 4])
    wanted = splitter.sizes()
    first.close()
    second = MainWindow(app_state, settings, restore_session=False)
    qtbot.addWidget(second)
    second.confirm_close = False
    assert second.explore_tab.findChild(QSplitter).sizes() == wanted != [total // 2, total // 2]


def test_plots_follow_a_dark_palette(qtbot):
    app = QApplication.instance()
    light = app.palette()
    plot = LossPlot()
    qtbot.addWidget(plot)
    assert not style.is_dark()
    try:
        style.apply_scheme(app, Qt.ColorScheme.Dark)
        QApplication.processEvents()
        assert style.is_dark()
        assert plot.backgroundBrush().color().lightness() < 64
        axis_text = plot.plots[0].getAxis("left").textPen().color()
        assert axis_text.lightness() > 192
    finally:
        app.setPalette(light)
        QApplication.processEvents()
    assert plot.backgroundBrush().color().lightness() > 192


def test_launcher_gives_the_apt_get_line_when_xcb_libraries_are_missing(monkeypatch, capsys):
    monkeypatch.setattr(launcher.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(launcher.ctypes.util, "find_library",
                        lambda name: None if name == "xcb-cursor" else f"lib{name}.so")
    monkeypatch.setattr(desktop.app, "main", lambda argv: 0)
    assert launcher.main([]) == 0
    err = capsys.readouterr().err
    assert "libxcb-cursor)" in err and "sudo apt-get install libxcb-cursor0" in err
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert launcher.missing_xcb_libraries() == []


def test_a_pane_shows_a_legend_only_for_several_metrics(qtbot):
    """A pane of one metric names it in its title; a legend there would repeat it over the data."""
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.set_family("loss", "nats per image")
    plot.add("train", 0.5, {"loss": 500.0, "bits_per_dim": 0.9})  # far apart: two panes
    plot.redraw()
    assert len(plot.plots) == 2 and not plot.plots[1].legend.isVisible()
    assert not plot.plots[0].legend.isVisible() and "bits_per_dim" in plot.plots[1].titleLabel.text
    plot.add("train", 0.6, {"loss": 480.0, "recon": 470.0, "bits_per_dim": 0.8})
    plot.redraw()
    assert plot.plots[0].legend.isVisible() and not plot.plots[1].legend.isVisible()
