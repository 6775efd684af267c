"""Downloader middlewares of the crawl: retries that honour Retry-After, refusal of
off-site and private-address requests, robots.txt with a strict policy when it
cannot be read. Each is enabled in ``crawler/settings.py``."""
