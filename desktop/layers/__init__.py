"""The layers panel: a thin view of the document's evented layer list."""
