"""Live preview while painting: the masked region re-renders at low resolution as a stroke ends."""
