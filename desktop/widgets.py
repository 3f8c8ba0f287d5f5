"""Small widgets: the message banner above the canvas, a combo box that elides its text, a
scroll area that is never narrower than its form."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QToolButton,
    QWidget,
)

_STYLES = {
    "error": "background:#FCE8E6; color:#8C1D18; border-bottom:1px solid #F1B8B3;",
    "info": "background:#E8F0FE; color:#174EA6; border-bottom:1px solid #B7CEF5;",
}


class Banner(QFrame):
    """A non-modal message line: the app keeps running, nothing waits for a click."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBanner")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.kind = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str, kind: str = "error", timeout_ms: int = 0) -> None:
        self.kind = kind
        self.setStyleSheet(
            f"#messageBanner {{{_STYLES.get(kind, _STYLES['info'])}}} QLabel {{background:transparent;}}"
        )
        self.label.setText(text)
        self.show()
        if timeout_ms > 0:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class ElidingComboBox(QComboBox):
    """A combo box in a narrow panel: a long current text is elided ("…") instead of cut off, and
    the full text (plus the item's own tooltip, e.g. a model's path) is the combo's tooltip."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currentIndexChanged.connect(self._update_tooltip)

    def _label_rect_width(self) -> int:
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        rect = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        return max(0, rect.width() - 4)

    def displayed_text(self) -> str:
        """The current text as painted at the combo's present width."""
        return self.fontMetrics().elidedText(
            self.currentText(), Qt.TextElideMode.ElideRight, self._label_rect_width()
        )

    def _update_tooltip(self, *_: object) -> None:
        text = self.currentText()
        extra = self.itemData(self.currentIndex(), Qt.ItemDataRole.ToolTipRole)
        self.setToolTip(text if not extra or extra == text else f"{text}\n{extra}")

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.isEditable():
            super().paintEvent(event)
            return
        painter = QStylePainter(self)
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, opt)
        opt.currentText = self.displayed_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, opt)


class FittingScrollArea(QScrollArea):
    """A vertical scroll area whose minimum width is its widget's (plus the scroll bar): with no
    horizontal scroll bar, a dock narrower than the form would cut its fields off at the edge."""

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        widget = self.widget()
        if widget is None:
            return hint
        bar = self.verticalScrollBar().sizeHint().width()
        width = widget.minimumSizeHint().width() + bar + 2 * self.frameWidth()
        return QSize(max(hint.width(), width), hint.height())
