"""The canvas: the picture at any zoom, the brush and its strokes on the mask."""
