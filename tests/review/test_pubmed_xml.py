"""PubMed XML: the fields a human reads in the recorded NCBI files, and the
traps the fixtures' README lists."""
from __future__ import annotations

import pytest

from metail2.review.pubmed_xml import NotXMLError, iter_pubmed_xml, parse_pubmed_xml
from metail2.review.xml_prolog import DTDRefused
from metail2.review.records import Deletion, ParseIssue

from tests.conftest import ROOT

NCBI = ROOT / "tests" / "fixtures" / "ncbi"


def one(name, pmid):
    return next(r for r in parse_pubmed_xml(NCBI / name) if r.pmid == pmid)


def test_pubmed1_no_abstract_no_doi_season_date():
    r = one("pubmed1.xml", "12091962")
    assert r.abstract == "" and r.doi is None and r.year == 1990
    assert r.title == "The treatment of AIDS behind the walls of correctional facilities."
    assert r.authors == ("Olivero JM",) and r.language == "eng"
    assert r.journal == "Social justice (San Francisco, Calif.)" and (r.volume, r.issue, r.pages) == ("17", "1", "113-25")


def test_pubmed1_doi_only_in_article_id_list():
    r = one("pubmed1.xml", "9997")
    assert r.doi == "10.1016/0005-2795(76)90109-4" and r.year == 1976
    assert "Cytochrome c Group" in r.mesh_terms


def test_pubmed2_character_references_and_not_medline():
    r = one("pubmed2.xml", "11748933")
    assert "in the fresh sample (P < 0.001)." in r.abstract  # "&lt;" decoded
    assert "(P &lt; 0.001)" in r.raw  # the raw record is the text as sent
    r2 = one("pubmed2.xml", "11700088")
    assert r2.mesh_terms == () and r2.doi == "10.1006/jmre.2001.2429" and r2.year == 2001


def test_pubmed4_structured_abstract_markup_and_own_ids_only():
    r = one("pubmed4.xml", "27797938")
    assert [s[0] for s in r.abstract_sections] == ["OBJECTIVE", "DESIGN", "RESULTS", "CONCLUSIONS"]
    assert r.abstract.startswith("OBJECTIVE: ")
    assert "TERT" in r.title and "<i>" not in r.title
    assert r.doi == "10.1136/gutjnl-2016-312510" and r.pmcid == "PMC5442267" and r.year == 2017
    assert len(r.authors) == 22 and r.authors[0] == "Bao Y"
    # 48 CommentsCorrections carry other PMIDs: none of them is taken for this article's
    assert r.pmid == "27797938"


def test_pubmed5_structured_with_nlm_category_and_non_ascii():
    r = one("pubmed5.xml", "28775130")
    assert r.abstract_sections[0][0] == "OBJECTIVES" and r.mesh_terms == ()
    assert "©" in r.raw


def test_pubmed6_badly_nested_title_comes_out_whole():
    r = one("pubmed6.xml", "30108519")
    assert r.title.startswith('A "Blood Relationship" Between the Overlooked Minimum Lactate')
    assert r.year == 2018 and r.pmcid == "PMC6079548"


def test_html_reply_is_not_xml():
    with pytest.raises(NotXMLError):
        list(iter_pubmed_xml(NCBI / "pubmed3.html"))


def test_error_element_raises():
    with pytest.raises(RuntimeError, match="Empty ID list"):
        list(iter_pubmed_xml(NCBI / "epost3.xml"))


def test_truncated_file_keeps_whole_records_and_reports(tmp_path):
    data = (NCBI / "pubmed2.xml").read_bytes()
    cut = data[: data.index(b"</PubmedArticle>") + len(b"</PubmedArticle>") + 200]
    p = tmp_path / "cut.xml"
    p.write_bytes(cut)
    issues: list[ParseIssue] = []
    recs = parse_pubmed_xml(p, issues)
    assert [r.pmid for r in recs] == ["11748933"]
    assert len(issues) == 1 and "after PMID 11748933" in issues[0].message and "line" in issues[0].where


SYNTH = """<?xml version="1.0"?>
<!-- SYNTHETIC test file made for metail2 (NCBI's fixtures have no book, deletion or MedlineDate) -->
<!DOCTYPE PubmedArticleSet>
<PubmedArticleSet>
<PubmedArticle><MedlineCitation><PMID>111</PMID><Article><Journal><JournalIssue><PubDate>
<MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate></JournalIssue><Title>J</Title></Journal>
<ArticleTitle>Medline date</ArticleTitle><AuthorList><Author><CollectiveName>IL-2 Study Group</CollectiveName>
</Author></AuthorList></Article>
<CommentsCorrectionsList><CommentsCorrections RefType="Cites"><PMID>999</PMID></CommentsCorrections>
</CommentsCorrectionsList></MedlineCitation>
<PubmedData><ReferenceList><Reference><ArticleIdList><ArticleId IdType="doi">10.9/not-mine</ArticleId>
</ArticleIdList></Reference></ReferenceList></PubmedData></PubmedArticle>
<PubmedBookArticle><BookDocument><PMID>222</PMID><Book><BookTitle>A Book</BookTitle>
<PubDate><Year>2010</Year></PubDate></Book></BookDocument><PubmedBookData><ArticleIdList>
<ArticleId IdType="doi">10.1/book</ArticleId></ArticleIdList></PubmedBookData></PubmedBookArticle>
<PubmedArticle><MedlineCitation><Article><ArticleTitle>No PMID</ArticleTitle></Article></MedlineCitation>
</PubmedArticle>
<DeleteCitation><PMID>111</PMID></DeleteCitation>
</PubmedArticleSet>
"""


def test_synthetic_medline_date_collective_book_deletion_and_nested_ids(tmp_path):
    p = tmp_path / "synthetic.xml"
    p.write_text(SYNTH)
    issues: list[ParseIssue] = []
    items = list(iter_pubmed_xml(p, issues))
    a, book, deletion = items
    assert a.pmid == "111" and a.year == 1998 and a.authors == ("IL-2 Study Group",) and a.doi is None
    assert book.kind == "book" and book.pmid == "222" and book.title == "A Book" and book.doi == "10.1/book"
    assert deletion == Deletion(("111",))
    assert issues and "no PMID" in issues[0].message


BOMB = ('<!DOCTYPE PubmedArticleSet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>&b;</ArticleTitle>"
        "</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>")


@pytest.mark.parametrize("before", [
    '<?xml version="1.0"?>',
    '<?xml version="1.0"?><!-- <x looks like a root element -->',  # bypassed the old prolog search
    '<?xml version="1.0"?>\n<?xml-stylesheet href="<x.xsl"?>\n<!-- a > b -->\n',
    "\ufeff" + "<!-- " + "padding " * 20000 + " -->",  # more than the first read
], ids=["plain", "comment-with-tag", "pi-and-comment", "long-comment"])
def test_a_dtd_internal_subset_is_refused_wherever_it_is(tmp_path, before):
    p = tmp_path / "bomb.xml"
    p.write_text(before + BOMB, encoding="utf-8")
    with pytest.raises(DTDRefused, match="line [0-9]+: the DOCTYPE declares an internal DTD subset"):
        list(iter_pubmed_xml(p))


def test_an_empty_internal_subset_or_a_stray_declaration_is_refused_too(tmp_path):
    for text in ('<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//x" "http://x/[y].dtd" []><PubmedArticleSet/>',
                 '<?xml version="1.0"?>\n<!ENTITY a "b">\n<PubmedArticleSet/>'):
        with pytest.raises(DTDRefused):
            list(iter_pubmed_xml(text.encode()))


def test_a_declaration_inside_or_between_records_is_refused_and_the_rest_kept(tmp_path):
    art = "<PubmedArticle><MedlineCitation><PMID>{}</PMID><Article><ArticleTitle>{}</ArticleTitle></Article>" \
          "</MedlineCitation></PubmedArticle>\n"
    text = ('<?xml version="1.0"?>\n<PubmedArticleSet>\n' + art.format(1, "one")
            + '<!DOCTYPE x [<!ENTITY e "x">]>\n' + art.format(2, '<!ENTITY f "y">two') + art.format(3, "three")
            + "</PubmedArticleSet>\n")
    issues: list[ParseIssue] = []
    assert [r.pmid for r in iter_pubmed_xml(text.encode(), issues)] == ["1", "3"]
    assert [(i.where, i.message) for i in issues] == [
        ("line 4", "a DTD declaration between records: refused (nothing in it is used)"),
        ("record 2 (line 5, PMID 2)", "a DTD declaration inside the record: refused")]


def test_refusals_are_one_line_on_the_command_line_and_store_nothing(tmp_path, capsys):
    from metail2.cli import main

    p = tmp_path / "bomb.xml"
    p.write_text('<?xml version="1.0"?><!-- <x -->' + BOMB)
    db = tmp_path / "s.sqlite"
    assert main(["records", "import", str(p), str(NCBI / "pubmed1.xml"), "--db", str(db)]) == 2
    cap = capsys.readouterr()
    assert cap.err == (f"metail2: error: {p}: line 1: the DOCTYPE declares an internal DTD subset (entity "
                       "declarations): refused; PubMed never sends one, and its entities could expand without bound "
                       "or read local files\n")
    assert "pubmed1.xml: 2 records" in cap.out


def test_no_root_element_is_not_xml(tmp_path):
    for text in (b"<!-- only a comment -->", b"", b"PMID- 1\nTI  - MEDLINE, not XML\n"):
        with pytest.raises(NotXMLError):
            list(iter_pubmed_xml(text))


def test_truncated_einfo_is_reported_not_crashed():
    issues: list[ParseIssue] = []
    assert list(iter_pubmed_xml(NCBI / "einfo4.xml", issues)) == []
    assert "truncated" in issues[0].message
