"""Draw ``crawler.archivereport.collect`` as one self-contained HTML file.

Charts are Plotly figures (built with ``plotly.graph_objects``) drawn by plotly.js, which the
``plotly`` package ships and which is inlined in the page: the file makes no request when viewed,
from ``file://`` or served from S3. Every text from the archive is escaped.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone

CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2433;background:#f5f6f8}
header{background:#1d2433;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c7ccd6}main{padding:12px 24px}
h2{margin:24px 0 8px;font-size:17px}h3{margin:0 0 6px;font-size:15px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:12px}
.card{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px}
.card.bad{border-color:#c62828;box-shadow:0 0 0 2px #ffcdd2}
.alert{background:#ffebee;color:#8e0000;border-left:4px solid #c62828;padding:6px 10px;margin:6px 0;font-weight:600}
.alert.status{background:#fff8e1;color:#6d4c00;border-color:#f9a825}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:6px}.chart{height:190px}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eceff3}
th{background:#f0f2f5}td.n,th.n{text-align:right}.muted{color:#6b7385}.ok{color:#2e7d32}.notok{color:#c62828;font-weight:600}
.summary{display:flex;gap:18px;flex-wrap:wrap;margin:4px 0 8px}.summary b{font-size:15px}
"""

PLOT_CONFIG = {"displayModeBar": False, "responsive": True}


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _ts(value) -> str:
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).strftime("%Y-%m-%d %H:%M UTC")
    return _e(value or "–")


def _pct(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def _top(mapping: dict, k: int = 5) -> str:
    items = sorted(mapping.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{key} {n}" for key, n in items[:k]) + (", …" if len(items) > k else "") or "–"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


class _Charts:
    """Collects figures; each becomes a ``<div>`` and one ``Plotly.newPlot`` call at the end of the page."""

    def __init__(self):
        self.calls: list[str] = []

    def div(self, element_id: str, figure, css_class: str = "chart", data_source: str = "") -> str:
        import plotly.io as pio

        spec = pio.to_json(figure, validate=False).replace("</", "<\\/")
        self.calls.append(f"draw({json.dumps(element_id)}, {spec});")
        attr = f' data-source="{_e(data_source)}"' if data_source else ""
        return f'<div id="{_e(element_id)}" class="{css_class}"{attr}></div>'


def _layout(title: str, **extra) -> dict:
    layout = {"title": {"text": title, "font": {"size": 12}, "x": 0.01}, "margin": {"l": 38, "r": 8, "t": 28, "b": 30},
              "font": {"size": 10}, "showlegend": False, "plot_bgcolor": "#fff", "paper_bgcolor": "#fff",
              "xaxis": {"gridcolor": "#eceff3"}, "yaxis": {"gridcolor": "#eceff3", "rangemode": "tozero"}}
    layout.update(extra)
    return layout


def _daily_figure(src: dict):
    import plotly.graph_objects as go

    days = [d.isoformat() for d, _ in src["daily"]]
    counts = [n for _, n in src["daily"]]
    fig = go.Figure(go.Bar(x=days, y=counts, marker_color="#3f6fb5", hovertemplate="%{x}: %{y}<extra></extra>"))
    fig.update_layout(**_layout(f"articles per day ({src['timezone']})"))
    return fig


def _completeness_figure(src: dict):
    import plotly.graph_objects as go

    colors = {"title": "#3f6fb5", "body": "#2e7d32", "date": "#c62828", "authors": "#8e6c00"}
    fig = go.Figure()
    x, seen = [], set()
    for c in src["completeness"]:  # one category per run, in order, whatever the gaps between runs
        label = _ts(c["started_at"])[5:-4]
        while label in seen:
            label += "'"
        seen.add(label)
        x.append(label)
    for field, color in colors.items():
        fig.add_trace(go.Scatter(x=x, y=[c[field] for c in src["completeness"]], name=field, mode="lines+markers",
                                 line={"color": color, "width": 1.5}, marker={"size": 4},
                                 hovertemplate=field + " %{y:.0%}<extra></extra>"))
    fig.update_layout(**_layout("completeness per run", showlegend=True,
                                legend={"orientation": "h", "y": -0.3, "font": {"size": 9}},
                                xaxis={"type": "category", "gridcolor": "#eceff3", "tickfont": {"size": 8}},
                                yaxis={"range": [-0.05, 1.05], "tickformat": ".0%", "gridcolor": "#eceff3"}))
    return fig


def _source_card(src: dict, charts: _Charts) -> str:
    alerts = "".join(f'<div class="alert" data-source="{_e(src["name"])}" data-metric="{_e(a.metric)}">'
                     f'below its recent median: {_e(a)}</div>' for a in src["alerts"])
    if src["status_alert"]:
        alerts += f'<div class="alert status" data-source="{_e(src["name"])}">{_e(src["status_alert"])}</div>'
    rows = "".join(
        f"<tr><td>{_ts(r['started_at'])}</td><td class='{'ok' if r['status'] == 'ok' else 'notok'}'>{_e(r['status'])}</td>"
        f"<td class='n'>{_e(r['articles_found'])}</td><td class='n'>{_e(r['articles_archived'])}</td>"
        f"<td class='n'>{_e(r['duplicates_skipped'])}</td><td>{_e(_top(r['dropped'], 3))}</td>"
        f"<td>{_e(_top(r['http_errors'], 3))}</td></tr>" for r in src["latest_runs"])
    slug = _slug(src["name"])
    return f"""<section class="card{' bad' if src['alerts'] or src['status_alert'] else ''}" id="source-{slug}" data-source="{_e(src['name'])}">
<h3>{_e(src['name'])}</h3>{alerts}
<div class="summary"><span><b>{src['in_window']}</b> in window</span><span><b>{src['articles']}</b> archived in all ({src['undated']} undated)</span>
<span>last success: <b>{_ts(src['last_success'])}</b></span><span>last article: {_ts(src['last_archived'])}</span></div>
<div class="charts">{charts.div('daily-' + slug, _daily_figure(src), 'chart daily', src['name'])}{charts.div('completeness-' + slug, _completeness_figure(src), 'chart completeness', src['name'])}</div>
<p class="muted">HTTP errors (latest runs): {_e(_top(src['http_errors']))} · not archived: {_e(_top(src['dropped']))}</p>
<table><tr><th>run started</th><th>status</th><th class="n">found</th><th class="n">archived</th><th class="n">dup.</th><th>not archived (why)</th><th>HTTP errors</th></tr>{rows}</table>
</section>"""


def _syndication(syn: dict, charts: _Charts) -> str:
    import plotly.graph_objects as go

    if not syn["copies"]:
        return "<p class='muted'>No syndicated copies in the archive.</p>"
    top = "".join(f"<tr><td>{_e(s['title'])}</td><td>{_e(s['source'])}</td><td class='n'>{s['copies']}</td>"
                  f"<td>{_e(', '.join(s['copied_by']))}</td></tr>" for s in syn["top"])
    names = syn["sources"]
    fig = go.Figure(go.Heatmap(z=syn["matrix"], x=names, y=names, colorscale="Blues", text=syn["matrix"],
                               texttemplate="%{text}", hovertemplate="%{x} copied %{z} from %{y}<extra></extra>"))
    fig.update_layout(**_layout("copies: original source (row) → copying source (column)",
                                margin={"l": 150, "r": 8, "t": 28, "b": 110}, height=360,
                                yaxis={"autorange": "reversed"}, xaxis={"tickangle": -30}))
    return f"""<div class="grid"><div class="card"><h3>Stories with most copies</h3>
<table><tr><th>title</th><th>first archived from</th><th class="n">copies</th><th>copied by</th></tr>{top}</table></div>
<div class="card"><h3>Who copies whom ({syn['copies']} copies, exact and near)</h3>{charts.div('syndication-matrix', fig, 'matrix')}</div></div>"""


def _health(h: dict) -> str:
    rows = "".join(
        f"<tr><td>{_e(p['dataset'])}</td><td>{_e(p['partition'])}</td><td class='n'>{p['files']}</td>"
        f"<td class='n'>{p['small_files']}</td><td class='n'>{p['rows']:,}</td><td class='n'>{p['bytes'] / 1e6:,.2f}</td></tr>"
        for p in h["partitions"])
    totals = " · ".join(f"{d}: {t['rows']:,} rows, {t['files']} files ({t['small_files']} small), "
                        f"{t['bytes'] / 1e6:,.1f} MB" for d, t in h["totals"].items())
    due = (f"<div class='alert status' id='compact-due'>compact is due for {len(h['compact_due'])} partition(s) "
           f"(≥ {h['compact_due_small_files']} files under {h['small_file_bytes'] >> 20} MiB): "
           f"{_e(', '.join(h['compact_due'][:10]))}{' …' if len(h['compact_due']) > 10 else ''}; run "
           f"<code>scrapy archive compact</code></div>") if h["compact_due"] else \
        "<p class='ok' id='compact-due'>compact is not due</p>"
    v = h["verify"]
    if v is None:
        verify = "<p class='muted' id='verify'>no <code>scrapy archive verify</code> result recorded yet</p>"
    else:
        verdict = ("<span class='ok'>OK</span>" if v.get("ok") else
                   f"<span class='notok'>FAILED, {v.get('problem_count', len(v.get('problems', [])))} problem(s)</span>")
        problems = "".join(f"<li>{_e(p)}</li>" for p in v.get("problems", [])[:10])
        verify = (f"<p id='verify'>last <code>verify</code>: {verdict} at {_e(v.get('checked_at'))}: "
                  f"{v.get('manifests')} manifests, {v.get('files')} files, {v.get('rows')} rows checked</p>"
                  f"{f'<ul>{problems}</ul>' if problems else ''}")
    return f"""<div class="card"><p>{_e(totals)}</p>{due}{verify}
<table><tr><th>dataset</th><th>partition</th><th class="n">files</th><th class="n">small files</th><th class="n">rows</th><th class="n">MB</th></tr>{rows}</table></div>"""


def render(data: dict) -> str:
    """The report page: one string of HTML with plotly.js and every chart's data inline."""
    from plotly.offline import get_plotlyjs

    charts = _Charts()
    sources = data["sources"]
    flagged = [s["name"] for s in sources if s["alerts"]]
    rule = data["rule"]
    cards = "".join(_source_card(s, charts) for s in sources) or "<p>No source in the archive yet.</p>"
    banner = (f"<div class='alert' id='degraded-sources'>below their recent median: {_e(', '.join(flagged))}</div>" if flagged else
              "<p class='ok' id='degraded-sources'>no source below its recent median</p>")
    body = f"""<header><h1>newsarchive report</h1><p>{_e(data['archive'])} · {len(sources)} sources, {data['runs']} runs ·
window {data['start']} .. {data['end']} ({data['days']} days, local days of each source) · drawn {_ts(data['generated_at'])}</p></header>
<main>{banner}
<p class="muted" id="alert-rule">Alert rule (also marks a run <code>degraded</code> in the run report and makes <code>crawlall</code> exit 1),
judged on each source's latest run once it has {rule.min_history} earlier ok or degraded runs:
completeness of title, body, date or authors more than {rule.completeness_drop:.0%} points below its median over the last {rule.history_runs}
runs (of at least {rule.min_articles} articles); or, after an unrestricted run, the articles published on the local day before it started
fewer than {1 - rule.count_drop:.0%} of the median of the {rule.history_days} days before that day (median ≥ {rule.count_min_median:g}).</p>
<h2>Sources</h2><div class="grid">{cards}</div>
<h2>Syndication</h2>{_syndication(data['syndication'], charts)}
<h2>Archive health</h2>{_health(data['health'])}
</main>"""
    script = ("function draw(id, fig){Plotly.newPlot(id, fig.data, fig.layout, "
              + json.dumps(PLOT_CONFIG) + ");}\n" + "\n".join(charts.calls)
              + "\ndocument.body.setAttribute('data-charts-drawn', String(document.querySelectorAll('.js-plotly-plot').length));"
              + "\ndocument.body.setAttribute('data-resources', String(performance.getEntriesByType('resource').length));")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
            f"style-src 'unsafe-inline'; img-src data:; font-src data:\">"
            f"<link rel=\"icon\" href=\"data:,\"><title>newsarchive report {_e(data['end'])}</title><style>{CSS}</style>"
            f"<script>{get_plotlyjs()}</script></head>\n<body>{body}\n<script>{script}</script></body></html>\n")
