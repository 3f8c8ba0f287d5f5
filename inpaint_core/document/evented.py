"""Plain-callback events and an evented list (napari's ``EventedList``, without Qt).

The GUI adapts these to Qt models/signals; the core stays usable (and testable) from plain Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableSequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Emitter:
    """A list of callbacks called in order with the emitted arguments."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        try:
            self._callbacks.remove(callback)
        except ValueError:
            pass

    def emit(self, *args: Any) -> None:
        for cb in list(self._callbacks):
            cb(*args)


class ListEvents:
    """The events of an :class:`EventedList`.

    ``inserted(index, item)`` after an insert, ``removed(index, item)`` after a removal,
    ``moved(src, dst)`` after ``move`` (``dst`` is the item's new index), ``changed(index, item, name)``
    after a property of an item changed (the owner calls :meth:`EventedList.notify_changed`).
    ``inserting(index)``, ``removing(index)`` and ``moving(src, dst)`` come just *before* the change
    (what Qt item models need for ``beginInsertRows`` & co.).
    """

    def __init__(self) -> None:
        self.inserting = Emitter()
        self.removing = Emitter()
        self.moving = Emitter()
        self.inserted = Emitter()
        self.removed = Emitter()
        self.moved = Emitter()
        self.changed = Emitter()


class EventedList(MutableSequence[T], Generic[T]):
    def __init__(self, items: list[T] | None = None) -> None:
        self._items: list[T] = list(items or [])
        self.events = ListEvents()

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __getitem__(self, index):  # type: ignore[override]
        return self._items[index]

    def __setitem__(self, index, value):  # type: ignore[override]
        if isinstance(index, slice):
            raise TypeError("EventedList does not support slice assignment")
        index = self._norm(index)
        self.events.removing.emit(index)
        old = self._items.pop(index)
        self.events.removed.emit(index, old)
        self.events.inserting.emit(index)
        self._items.insert(index, value)
        self.events.inserted.emit(index, value)

    def __delitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            for i in sorted(range(*index.indices(len(self))), reverse=True):
                del self[i]
            return
        index = self._norm(index)
        self.events.removing.emit(index)
        item = self._items.pop(index)
        self.events.removed.emit(index, item)

    def insert(self, index: int, value: T) -> None:
        index = max(0, min(len(self._items), index if index >= 0 else len(self._items) + index))
        self.events.inserting.emit(index)
        self._items.insert(index, value)
        self.events.inserted.emit(index, value)

    def move(self, src: int, dst: int) -> None:
        """Move the item at ``src`` so that it ends up at index ``dst``."""
        src, dst = self._norm(src), self._norm(dst)
        if src == dst:
            return
        self.events.moving.emit(src, dst)
        item = self._items.pop(src)
        self._items.insert(dst, item)
        self.events.moved.emit(src, dst)

    def index_of(self, item: T) -> int:
        """Index by identity (layers compare by identity, not value)."""
        for i, x in enumerate(self._items):
            if x is item:
                return i
        raise ValueError("item is not in the list")

    def notify_changed(self, item: T, name: str) -> None:
        self.events.changed.emit(self.index_of(item), item, name)

    def _norm(self, index: int) -> int:
        n = len(self._items)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"index {index} out of range for {n} items")
        return index
