"""The web pages ciyuan serves and writes: the live operator dashboard and the SVG charts of
the release report."""
