"""dtl_report: the figures and tables of the papers, from the aggregated records of a sweep.

One module per family of figures (metric_correlation, score_distributions, ...); each has
`add_to_page(page, records)`, which draws what the records allow and notes what it skipped.
"""
