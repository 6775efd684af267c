"""The bundled demo news sites: a deterministic world of articles and a local server.

``crawler.demo.world.build_world`` (ground truth, lazy rendering) and
``crawler.demo.server.DemoServer`` (HTTP on 127.0.0.1, fault switches) are the
entry points; see their module docstrings.
"""
