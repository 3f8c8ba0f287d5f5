"""Generation in the window: the parameters panel, the candidates tray and the actions, bound to
the core's :class:`~inpaint_core.generation_model.GenerationModel`."""
