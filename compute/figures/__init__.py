"""Figures: pure functions from the compute tables to plotly Figures, shared by the app and the CLI.

Every function takes its data first and options keyword-only, reads only the tables that the science
packages produce, and returns one ``go.Figure``. One module per domain:

common        colours, template, the empty placeholder, gene labels
explain       driver barplot, usage gradients, driver heatmap, eigengene, high-vs-low contrast
structure     transcript structures, a switch pair on one axis, the consequence summary
sae           activation histogram, activation heat along sequences, training curves, interventions
render        PDF/PNG/SVG/HTML bytes through kaleido and Chromium (one warm exporter per process)
module_files  the per-module figure files of ``isograph explain-module --plot``

Plotly is imported only by these modules; the science packages never import them.
"""
