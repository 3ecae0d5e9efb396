/* xapian_ngram — Xapian's own CJK n-gram mode, as an outside reference
 * for scripts/bench (compare stage).  It does not use libjiansuo: it is
 * what an application would write with Xapian alone.
 *
 *   xapian_ngram build DB SECTIONS.tsv
 *     In:  one section a line, "KEY<TAB>TITLE<TAB>BODY" (no tabs or
 *          newlines inside the fields; scripts/bench writes it from
 *          `jiansuo sections --json`).
 *     Out: a Xapian database DB (replaced if it exists): one document per
 *          section, indexed by TermGenerator with FLAG_CJK_NGRAM (unigrams
 *          and bigrams of CJK runs, words elsewhere, positions kept),
 *          title then body; the key in value slot 0 and the body as the
 *          document data (stored text, as an application showing its hits
 *          keeps it).  Prints the number of sections on stdout.
 *
 *   xapian_ngram search DB [QUERIES]
 *     In:  one query a line (file, or stdin).
 *     Out: one line per query, "MICROS<TAB>KEY KEY ...": the top 10 by
 *          BM25, parsed by QueryParser with FLAG_DEFAULT|FLAG_CJK_NGRAM
 *          and AND as the default operator (parts separated by spaces must
 *          all match, as in jiansuo; a CJK run is the AND of its unigrams
 *          and bigrams, Xapian's reading).  MICROS is measured in the
 *          process: parsing, matching and reading the hits' keys.
 */
#include <xapian.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

static int usage()
{
    std::fprintf(stderr, "usage: xapian_ngram build DB SECTIONS.tsv\n"
                         "       xapian_ngram search DB [QUERIES]\n");
    return 2;
}

static int build(const char *dbpath, const char *tsv)
{
    std::ifstream in(tsv);
    if (!in) {
        std::fprintf(stderr, "xapian_ngram: cannot read %s\n", tsv);
        return 1;
    }
    Xapian::WritableDatabase db(dbpath, Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator tg;
    tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
    std::string line;
    unsigned long n = 0;
    while (std::getline(in, line)) {
        size_t t1 = line.find('\t');
        size_t t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
        if (t2 == std::string::npos) {
            std::fprintf(stderr, "xapian_ngram: %s: line %lu: not KEY<TAB>TITLE<TAB>BODY\n",
                         tsv, n + 1);
            return 1;
        }
        Xapian::Document doc;
        tg.set_document(doc);
        tg.index_text(line.substr(t1 + 1, t2 - t1 - 1));
        tg.increase_termpos();
        tg.index_text(line.substr(t2 + 1));
        doc.add_value(0, line.substr(0, t1));
        doc.set_data(line.substr(t2 + 1));
        db.add_document(doc);
        n++;
    }
    db.commit();
    db.close();
    std::printf("%lu\n", n);
    return 0;
}

static int search(const char *dbpath, const char *queries)
{
    std::ifstream file;
    if (queries && std::strcmp(queries, "-") != 0) {
        file.open(queries);
        if (!file) {
            std::fprintf(stderr, "xapian_ngram: cannot read %s\n", queries);
            return 1;
        }
    }
    std::istream &in = file.is_open() ? file : std::cin;
    Xapian::Database db(dbpath);
    Xapian::Enquire enquire(db);
    Xapian::QueryParser qp;
    qp.set_database(db);
    qp.set_default_op(Xapian::Query::OP_AND);
    const unsigned flags = Xapian::QueryParser::FLAG_DEFAULT |
                           Xapian::QueryParser::FLAG_CJK_NGRAM;
    std::string line, keys;
    while (std::getline(in, line)) {
        auto t0 = std::chrono::steady_clock::now();
        keys.clear();
        try {
            enquire.set_query(qp.parse_query(line, flags));
            Xapian::MSet ms = enquire.get_mset(0, 10);
            for (auto it = ms.begin(); it != ms.end(); ++it) {
                if (!keys.empty())
                    keys += ' ';
                keys += it.get_document().get_value(0);
            }
        } catch (const Xapian::QueryParserError &) {
            keys.clear(); /* a query Xapian cannot read finds nothing */
        }
        auto t1 = std::chrono::steady_clock::now();
        double us = std::chrono::duration<double, std::micro>(t1 - t0).count();
        std::printf("%.0f\t%s\n", us, keys.c_str());
    }
    return 0;
}

int main(int argc, char **argv)
{
    try {
        if (argc == 4 && std::strcmp(argv[1], "build") == 0)
            return build(argv[2], argv[3]);
        if ((argc == 3 || argc == 4) && std::strcmp(argv[1], "search") == 0)
            return search(argv[2], argc == 4 ? argv[3] : nullptr);
    } catch (const Xapian::Error &e) {
        std::fprintf(stderr, "xapian_ngram: %s\n", e.get_description().c_str());
        return 1;
    }
    return usage();
}
