"""Models ▸ Manage models…: the installed models and downloads (desktop side of inpaint_core.models.manager)."""
