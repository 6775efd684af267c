"""Scrapy extensions of the crawl (enabled in ``crawler/settings.py``)."""
