"""Finding studies, in the order a review does it: search PubMed
(:mod:`.eutils`, :mod:`.search`) or import record files (:mod:`.imports`;
parsers :mod:`.pubmed_xml`, :mod:`.medline`, :mod:`.ris` yielding
:class:`Record` values, :mod:`.records`) into the records store
(:func:`open_store`, :mod:`.store`), screen them (:mod:`.screening`),
count the PRISMA 2020 flow (:mod:`.prisma`) and export them (:mod:`.exports`).
Text is decoded by one rule (:mod:`.encoding`); XML prologs are checked
before parsing (:mod:`.xml_prolog`).

Never imports the analysis side (sheets, effects, models, plots); the
command line glues the store to the sheets. requests, defusedxml, Bio and
rispy load on first use.
"""
from .eutils import EutilsClient, EutilsError, SearchResult, WebEnvExpired
from .exports import write_records
from .imports import FileFacts, FileImport, file_format, import_file, inspect_file
from .medline import iter_medline
from .prisma import Prisma, prisma_counts
from .pubmed_xml import NotXMLError, iter_pubmed_xml, parse_pubmed_xml
from .records import Deletion, ParseIssue, Record, normalize_doi, title_key
from .ris import iter_ris, to_ris
from .screening import (DECISIONS, STAGES, ImportReport, Settled, conflicts, export_screening, final_decisions,
                        import_screening, reviewer_name, settle, settled)
from .search import SearchRun, run_search, split_by_date
from .store import Store, StoreError, open_store

__all__ = [
    # search and import
    "EutilsClient", "EutilsError", "WebEnvExpired", "SearchResult", "run_search", "split_by_date", "SearchRun",
    "import_file", "inspect_file", "file_format", "FileImport", "FileFacts",
    # records and parsers
    "Record", "Deletion", "ParseIssue", "normalize_doi", "title_key", "iter_pubmed_xml", "parse_pubmed_xml",
    "NotXMLError", "iter_medline", "iter_ris", "to_ris",
    # the store
    "open_store", "Store", "StoreError",
    # screening and PRISMA
    "STAGES", "DECISIONS", "export_screening", "import_screening", "ImportReport", "conflicts", "settle", "settled",
    "Settled", "final_decisions", "reviewer_name", "prisma_counts", "Prisma",
    # export
    "write_records",
]
