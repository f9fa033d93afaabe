"""The monthly statistical release: volumes in native and standard tokens, unit prices,
chained price indexes, status flags and revisions, written as JSON, CSV, Parquet, SDMX-CSV
and HTML (``ciyuan report``)."""
