"""ciyuan.web: the pages ciyuan serves and draws.

Owns the live operator dashboard (``dashboard``: the ``/dashboard`` routes of ``ciyuan serve``
and the page in ``static/``) and the server-side SVG charts (``charts``) that the HTML
release report (``ciyuan.stats.html``) draws with; ``charts`` is pure and imports nothing
of ciyuan. In: usage records, budget statuses (``ciyuan.billing``) and ``release.json``
files. Out: JSON for the page, HTML, CSS, JS and SVG text.
"""
