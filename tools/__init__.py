"""Developer tools (screenshots, demos, build helpers): not shipped in the wheel or the bundle."""
