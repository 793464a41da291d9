"""Finding studies: the E-utilities client and search runs, record parsers,
the SQLite records store, screening and PRISMA counts.

Never imports the analysis side (sheets, effects, models, plots); the
command line glues the store to the sheets.
"""
__all__: list[str] = []
