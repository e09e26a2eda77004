"""compose_panels: each panel's axes, traces, annotations, colour bars and legend moved into its box."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from isograph.figures.panels import compose_panels


def test_every_axis_trace_and_note_moves_into_its_panel():
    left = make_subplots(rows=1, cols=2, subplot_titles=["one", "two"])
    left.add_scatter(x=[1, 2], y=[3, 4], name="a", row=1, col=1)
    left.add_scatter(x=[1, 2], y=[4, 3], name="b", row=1, col=2)
    left.update_layout(title_text="left panel")
    right = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]], name="h"))
    right.update_layout(xaxis_title="samples")
    page = compose_panels([(left, (0.0, 0.5, 0.0, 1.0)), (right, (0.6, 1.0, 0.2, 0.8))], height=600)
    assert [t.name for t in page.data] == ["a", "b", "h"]
    assert (page.data[0].xaxis, page.data[1].xaxis, page.data[2].xaxis) == ("x", "x2", "x3")
    assert page.data[2].yaxis == "y3" and page.layout.xaxis3.title.text == "samples"
    for axis in ("xaxis", "xaxis2"):  # the left figure's two columns share the left half
        low, high = page.layout[axis].domain
        assert 0.0 <= low < high <= 0.5
    assert tuple(page.layout.xaxis3.domain) == (0.6, 1.0) and tuple(page.layout.yaxis3.domain) == (0.2, 0.8)
    assert page.layout.xaxis2.anchor == "y2" and page.layout.yaxis3.anchor == "x3"
    titles = {a.text: a for a in page.layout.annotations}
    assert titles["one"].x < 0.25 < titles["two"].x <= 0.5  # subplot titles follow their subplots
    assert "<b>A</b>  left panel" in titles and "<b>B</b>" in titles
    assert page.data[2].colorbar.x > 1.0 - 1e-9 and page.data[2].legend == "legend2"
    assert page.layout.legend2.x > 0.6
