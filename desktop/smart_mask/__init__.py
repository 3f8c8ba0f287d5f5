"""Smart masks in the studio: click an object to mask it (Segment Anything)."""
