"""The Scrapy project: settings, sources, spiders, commands."""

from crawler.memory import prefer_system_arrow_pool

prefer_system_arrow_pool()  # before any pyarrow import (crawler/memory.py)
