"""The verification engine: safe intake of untrusted media, hashes and hash banks, C2PA provenance,
generator metadata, pluggable detectors and a verdict with reasons. Never imports streamlit.

Entry points: `engine.Engine` (scan_file / scan_bytes) and `engine.scan_bytes` for pool workers.
"""
