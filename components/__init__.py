"""Reusable Dash pieces and the figure factories (``components.figures``) shared by the app and the CLI."""
