"""The sweep setup dialog: choose the axes, see "N images, about T" before anything runs."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inpaint_core.errors import InpaintError
from inpaint_core.request import InpaintRequest
from inpaint_core.schedulers import canonical_scheduler_name, scheduler_names
from inpaint_core.sweep import SweepPlan, plan_sweep


def _numbers(text: str, kind: type, what: str) -> list[Any]:
    try:
        return [kind(v.strip()) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise InpaintError(f"{what}: a comma-separated list of numbers, got {text!r}") from None


def parse_seeds(text: str) -> int | list[int]:
    """``"4"`` = four seeds counted up from the base seed; ``"1, 7, 42"`` = exactly those."""
    text = text.strip()
    if not text:
        raise InpaintError("seeds: give a count (e.g. 4) or a list (e.g. 1, 7, 42)")
    if "," in text or ";" in text:
        return _numbers(text, int, "seeds")
    try:
        return int(text)
    except ValueError:
        raise InpaintError(f"seeds: a count or a comma-separated list, got {text!r}") from None


class SweepSetupDialog(QDialog):
    """Axes of a sweep over ``base`` (the window's current parameters). ``plan()`` after accept."""

    def __init__(
        self,
        base: InpaintRequest,
        seconds_per_step: float | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare side by side")
        self.base = base
        self.seconds_per_step = seconds_per_step
        self._plan: SweepPlan | None = None

        self.seeds = QLineEdit("4")
        self.seeds.setToolTip("a count (counted up from the seed) or a list: 1, 7, 42")
        self.schedulers = QListWidget()
        self.schedulers.setMaximumHeight(170)
        current = self._canonical(base.scheduler)
        for name in scheduler_names():
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if name == current else Qt.CheckState.Unchecked
            )
            self.schedulers.addItem(item)
        self.steps = QLineEdit()
        self.steps.setPlaceholderText(f"{base.steps} (e.g. 20, 30)")
        self.guidance = QLineEdit()
        self.guidance.setPlaceholderText(f"{base.guidance_scale:g} (e.g. 5, 7.5, 10)")
        self.strength = QLineEdit()
        self.strength.setPlaceholderText(f"{base.strength:g} (e.g. 0.75, 1)")

        form = QFormLayout()
        form.addRow("Seeds", self.seeds)
        form.addRow("Schedulers", self.schedulers)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Strength", self.strength)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        f = self.summary.font()
        f.setBold(True)
        self.summary.setFont(f)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.summary)
        lay.addWidget(self.buttons)

        for edit in (self.seeds, self.steps, self.guidance, self.strength):
            edit.textChanged.connect(self.refresh)
        self.schedulers.itemChanged.connect(self.refresh)
        self.refresh()

    @staticmethod
    def _canonical(name: str) -> str | None:
        try:
            return canonical_scheduler_name(name)
        except KeyError:
            return None

    def checked_schedulers(self) -> list[str]:
        return [
            self.schedulers.item(i).text()
            for i in range(self.schedulers.count())
            if self.schedulers.item(i).checkState() == Qt.CheckState.Checked
        ]

    def set_schedulers(self, names: list[str]) -> None:
        wanted = {self._canonical(n) for n in names}
        for i in range(self.schedulers.count()):
            item = self.schedulers.item(i)
            item.setCheckState(
                Qt.CheckState.Checked if item.text() in wanted else Qt.CheckState.Unchecked
            )

    def build_plan(self) -> SweepPlan:
        """The plan the current inputs describe (raises a typed error naming the bad field)."""
        schedulers = self.checked_schedulers()
        if self.base.engine != "diffusion":
            schedulers = []  # the classical engine has no schedulers: that axis means nothing
        return plan_sweep(
            self.base,
            seeds=parse_seeds(self.seeds.text()),
            schedulers=schedulers or None,
            steps=_numbers(self.steps.text(), int, "steps") or None,
            guidance_scales=_numbers(self.guidance.text(), float, "guidance") or None,
            strengths=_numbers(self.strength.text(), float, "strength") or None,
        )

    def refresh(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            self._plan = self.build_plan()
        except (InpaintError, ValueError) as exc:
            self._plan = None
            self.summary.setText(str(exc))
            self.summary.setStyleSheet("color: #d04040;")
            ok.setEnabled(False)
            return
        self.summary.setStyleSheet("")
        self.summary.setText(self._plan.summary(self.seconds_per_step))
        ok.setEnabled(True)

    def plan(self) -> SweepPlan | None:
        return self._plan
