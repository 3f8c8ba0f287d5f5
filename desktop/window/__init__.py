"""The main window: assembles the canvas, the layers, the generation and compare features in one
fixed order (:mod:`desktop.window.main_window`), and owns opening, saving and the status bar."""
