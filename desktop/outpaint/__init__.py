"""Outpainting in the studio: "Extend canvas…" grows the document in one undoable step."""
