"""Text-cleaning rules for extracted articles (see :mod:`pipelines.cleaning.rules`)."""
