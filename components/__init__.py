"""Reusable Dash pieces and the figure factories (``isograph.figures``) shared by the app and the CLI."""
