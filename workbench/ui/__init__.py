"""The desktop app: all Qt code lives here; it only shows and asks, the core does the work."""
