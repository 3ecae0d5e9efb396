## tests/Makefile.mk — every test, fuzz target and benchmark, included
## by Makefile.am.  A Check suite per module (tests/check_NAME.c, built
## with the defaults below unless it says otherwise), then the CLI's
## golden and end-to-end tests, the fuzz corpora's replays, and the
## benchmarks scripts/bench builds.

# By default a test links the core alone: no index API, no Xapian, no
# C++.  Tests of the index API link JS_INDEX_LIBS (Makefile.am).
LDADD = libjscore.la $(CHECK_LIBS)
TEST_INDEX_LIBS = $(JS_INDEX_LIBS) $(CHECK_LIBS)
EXTRA_DIST += tests/Makefile.mk tests/testutil.h

check_PROGRAMS += tests/check_utf8 tests/check_chartab tests/check_text \
	tests/check_source tests/check_sink tests/check_fields tests/check_ingest \
	tests/check_fmt_text tests/check_fmt_markdown tests/check_fmt_html \
	tests/check_fmt_man tests/check_fmt_jsonl \
	tests/check_codec tests/check_champ tests/check_lexicon tests/check_store \
	tests/check_accum tests/check_query tests/check_snippet \
	tests/check_index tests/check_search tests/check_verify \
	tests/check_corrupt tests/check_alloc tests/check_concurrent \
	tests/check_backend tests/check_manifest tests/check_deletes \
	tests/check_live tests/check_serve tests/check_blockcache \
	tests/check_prefix
tests_check_blockcache_LDADD = $(LDADD) -lpthread
EXTRA_DIST += tests/check_live.c
# The server's request handling (src/serve/), without a socket.
tests_check_serve_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/src/serve -I$(srcdir)/src/cli
tests_check_serve_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) -pthread
tests_check_serve_LDADD = libjsserve.la $(TEST_INDEX_LIBS) $(JANSSON_LIBS) -lpthread
tests_check_serve_LINK = $(JS_INDEX_LINK) $(tests_check_serve_LDFLAGS)
tests_check_backend_LDADD = $(TEST_INDEX_LIBS)
tests_check_live_LDADD = $(TEST_INDEX_LIBS)
tests_check_live_LINK = $(JS_INDEX_LINK) $(tests_check_live_LDFLAGS)
tests_check_prefix_LDADD = $(TEST_INDEX_LIBS)
tests_check_prefix_LINK = $(JS_INDEX_LINK) $(tests_check_prefix_LDFLAGS)
tests_check_manifest_LDADD = $(LDADD) -lpthread
tests_check_deletes_LDADD = $(LDADD) -lpthread
tests_check_index_LDADD = $(TEST_INDEX_LIBS)
tests_check_search_LDADD = $(TEST_INDEX_LIBS) -lpthread -lm
tests_check_verify_LDADD = $(TEST_INDEX_LIBS)
tests_check_corrupt_LDADD = $(TEST_INDEX_LIBS)
tests_check_concurrent_LDADD = $(TEST_INDEX_LIBS) -lpthread
# Every allocation of our own code goes through tests/check_alloc.c's
# failing allocator (the library is linked in statically, so --wrap
# reaches it; the shared libraries' own allocations do not go through
# it).
tests_check_alloc_LDADD = $(TEST_INDEX_LIBS)
tests_check_alloc_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup \
	-Wl,--wrap=strndup,--wrap=posix_memalign
# Programs that link the index API link as the library does
# (JS_INDEX_LINK, src/xapian/Makefile.mk), with their own flags.
tests_check_backend_LINK = $(JS_INDEX_LINK) $(tests_check_backend_LDFLAGS)
tests_check_index_LINK = $(JS_INDEX_LINK) $(tests_check_index_LDFLAGS)
tests_check_search_LINK = $(JS_INDEX_LINK) $(tests_check_search_LDFLAGS)
tests_check_verify_LINK = $(JS_INDEX_LINK) $(tests_check_verify_LDFLAGS)
tests_check_corrupt_LINK = $(JS_INDEX_LINK) $(tests_check_corrupt_LDFLAGS)
tests_check_concurrent_LINK = $(JS_INDEX_LINK) $(tests_check_concurrent_LDFLAGS)
tests_check_alloc_LINK = $(JS_INDEX_LINK) $(tests_check_alloc_LDFLAGS)

if XAPIAN
check_PROGRAMS += tests/check_xapian_shim tests/check_xapian_build \
	tests/check_xcross tests/check_xapian_writer
tests_check_xapian_shim_LDADD = $(TEST_INDEX_LIBS)
tests_check_xapian_writer_LDADD = $(TEST_INDEX_LIBS)
tests_check_xapian_writer_LINK = $(JS_INDEX_LINK) $(tests_check_xapian_writer_LDFLAGS)
tests_check_xapian_build_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_check_xapian_build_LDADD = $(TEST_INDEX_LIBS) $(JANSSON_LIBS)
tests_check_xcross_LDADD = $(TEST_INDEX_LIBS) -lpthread -lm
tests_check_xapian_shim_LINK = $(JS_INDEX_LINK) $(tests_check_xapian_shim_LDFLAGS)
tests_check_xapian_build_LINK = $(JS_INDEX_LINK) $(tests_check_xapian_build_LDFLAGS)
tests_check_xcross_LINK = $(JS_INDEX_LINK) $(tests_check_xcross_LDFLAGS)
endif
EXTRA_DIST += tests/check_xapian_shim.c tests/check_xapian_build.c \
	tests/check_xcross.c tests/check_xapian_writer.c

# index_kill.sh is not among the VALGRIND_TESTS (below).
VALGRIND_TESTS = tests/cli.sh tests/index_cli.sh tests/index_full.sh \
	tests/limits.sh tests/search_cli.sh tests/live_cli.sh tests/live_full.sh \
	tests/serve_cli.sh
if XAPIAN
VALGRIND_TESTS += tests/xapian_cli.sh
endif
TESTS += $(check_PROGRAMS) $(VALGRIND_TESTS) tests/index_kill.sh \
	tests/live_kill.sh tests/serve_stress.sh tests/serve_page.sh
# The binary the CLI tests run (check-valgrind runs it under valgrind).
JIANSUO_RUN = $(abs_top_builddir)/jiansuo
if XAPIAN
JS_TEST_XAPIAN = 1
else
JS_TEST_XAPIAN = 0
endif
AM_TESTS_ENVIRONMENT = \
	JIANSUO='$(JIANSUO_RUN)'; export JIANSUO; \
	JIANSUO_XAPIAN='$(JS_TEST_XAPIAN)'; export JIANSUO_XAPIAN; \
	CLI_CASES='$(abs_top_srcdir)/tests/cli'; export CLI_CASES; \
	SEARCH_CASES='$(abs_top_srcdir)/tests/search'; export SEARCH_CASES; \
	CK_DEFAULT_TIMEOUT=120; export CK_DEFAULT_TIMEOUT; \
	FUZZ_CORPUS='$(abs_top_srcdir)/tests/fuzz/corpus'; export FUZZ_CORPUS; \
	JIANSUO_SHARED='$(abs_top_srcdir)/../shared'; export JIANSUO_SHARED;
EXTRA_DIST += tests/cli.sh tests/cli tests/index_cli.sh tests/index_kill.sh \
	tests/expect.sh tests/index_full.sh tests/limits.sh \
	tests/search_cli.sh tests/search tests/xapian_cli.sh tests/live_cli.sh \
	tests/live_kill.sh tests/live_full.sh tests/serve_cli.sh \
	tests/serve_stress.sh tests/serve_stress.py tests/serve_page.sh \
	tests/serve_page.py
# serve_page.sh's screenshots of the search page (in the build directory).
CLEANFILES += serve-page.png serve-page-phone.png serve-page-failed.png

# The CLI tests again, every jiansuo run under valgrind's memcheck: any
# error, or a leak (definite or indirect), fails the run with status 99.
# index_kill.sh is left out (its builds are killed, and valgrind's
# slowness moves the kills); JIANSUO_TEST_SMALL=1 has index_full.sh and
# limits.sh use smaller inputs (valgrind runs 20 to 50 times slower).
# Valgrind and the sanitizers cannot share a process: use a build
# directory configured without --enable-sanitizers.
VALGRIND_FLAGS = --quiet --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
EXTRA_DIST += tests/valgrind-run.in
CLEANFILES += tests/valgrind-run
.PHONY: check-valgrind
if SANITIZERS
check-valgrind:
	@echo "check-valgrind: this build uses the sanitizers, which valgrind" \
	  "cannot run beside; configure a build directory without" \
	  "--enable-sanitizers and run it there" >&2; exit 1
else
tests/valgrind-run: $(srcdir)/tests/valgrind-run.in Makefile
	$(AM_V_GEN)$(MKDIR_P) tests && \
	sed -e 's|%LIBTOOL%|$(abs_top_builddir)/libtool|' \
	    -e 's|%JIANSUO%|$(abs_top_builddir)/jiansuo$(EXEEXT)|' \
	    -e 's|%VALGRIND_FLAGS%|$(VALGRIND_FLAGS)|' \
	    $(srcdir)/tests/valgrind-run.in >$@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@
check-valgrind: jiansuo$(EXEEXT) tests/valgrind-run
	@command -v valgrind >/dev/null || \
	  { echo "check-valgrind: valgrind is not installed" >&2; exit 1; }
	JIANSUO_TEST_SMALL=1 $(MAKE) $(AM_MAKEFLAGS) check TESTS='$(VALGRIND_TESTS)' \
	  JIANSUO_RUN='$(abs_top_builddir)/tests/valgrind-run'
endif

# A back-end built against the installed library alone: only the
# installed header and `pkg-config --cflags --libs jiansuo` (with
# --define-prefix, so that a DESTDIR install works too; JS_LDFLAGS only
# adds the sanitizers when the library was built with them).
EXTRA_DIST += tests/embed.c
installcheck-local:
	@set -e; tmp=`mktemp -d "$${TMPDIR:-/tmp}/jiansuo-embed.XXXXXX"`; \
	PKG_CONFIG_PATH='$(DESTDIR)$(libdir)/pkgconfig'; export PKG_CONFIG_PATH; \
	flags=`$(PKG_CONFIG) --define-prefix --cflags --libs jiansuo`; \
	$(CC) -std=c11 -Wall -Wextra $(JS_LDFLAGS) -o "$$tmp/embed" \
		$(srcdir)/tests/embed.c $$flags -pthread; \
	LD_LIBRARY_PATH='$(DESTDIR)$(libdir)' "$$tmp/embed" "$$tmp/index"; \
	rm -rf "$$tmp"

### Fuzzing (doc/RELIABILITY.md, "Fuzzing").  scripts/fuzz builds the libFuzzer
# targets in a clang tree (_fuzz/), where they link with
# FUZZER_LINK=-fsanitize=fuzzer; make check builds each target again
# with the replay driver's main() instead of libFuzzer's and runs every
# saved input of tests/fuzz/corpus/TARGET (tests/replay_TARGET: the
# program's name after "replay_" picks the directory).
FUZZER_LINK =
EXTRA_PROGRAMS += tests/fuzz/fuzz_text tests/fuzz/fuzz_ingest \
	tests/fuzz/fuzz_query tests/fuzz/fuzz_reader tests/fuzz/fuzz_serve
check_PROGRAMS += tests/replay_text tests/replay_ingest \
	tests/replay_query tests/replay_reader tests/replay_serve
if XAPIAN
EXTRA_PROGRAMS += tests/fuzz/fuzz_xquery
check_PROGRAMS += tests/replay_xquery
endif
tests_fuzz_fuzz_text_SOURCES = tests/fuzz/fuzz_text.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_text_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_ingest_SOURCES = tests/fuzz/fuzz_ingest.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_ingest_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_query_SOURCES = tests/fuzz/fuzz_query.c tests/fuzz/fuzz.h \
	tests/fuzz/fuzz_index.h tests/fuzz/fuzz_results.h
tests_fuzz_fuzz_query_LDADD = $(JS_INDEX_LIBS)
tests_fuzz_fuzz_query_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_reader_SOURCES = tests/fuzz/fuzz_reader.c tests/fuzz/fuzz.h \
	tests/fuzz/fuzz_index.h
tests_fuzz_fuzz_reader_LDADD = $(JS_INDEX_LIBS)
tests_fuzz_fuzz_reader_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_serve_SOURCES = tests/fuzz/fuzz_serve.c tests/fuzz/fuzz.h \
	tests/fuzz/fuzz_index.h
tests_fuzz_fuzz_serve_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/src/serve
tests_fuzz_fuzz_serve_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) -pthread
tests_fuzz_fuzz_serve_LDADD = libjsserve.la $(JS_INDEX_LIBS) $(JANSSON_LIBS) -lpthread
tests_fuzz_fuzz_serve_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_xquery_SOURCES = tests/fuzz/fuzz_xquery.c tests/fuzz/fuzz.h \
	tests/fuzz/fuzz_index.h tests/fuzz/fuzz_results.h
tests_fuzz_fuzz_xquery_LDADD = $(JS_INDEX_LIBS)
tests_fuzz_fuzz_xquery_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)

# The replays are in tests/, not tests/fuzz/: scripts/test sums the
# lines of tests/*.log.
tests_replay_text_SOURCES = tests/fuzz/replay.c $(tests_fuzz_fuzz_text_SOURCES)
tests_replay_ingest_SOURCES = tests/fuzz/replay.c $(tests_fuzz_fuzz_ingest_SOURCES)
tests_replay_query_SOURCES = tests/fuzz/replay.c $(tests_fuzz_fuzz_query_SOURCES)
tests_replay_query_LDADD = $(JS_INDEX_LIBS)
tests_replay_reader_SOURCES = tests/fuzz/replay.c $(tests_fuzz_fuzz_reader_SOURCES)
tests_replay_reader_LDADD = $(JS_INDEX_LIBS)
tests_replay_serve_SOURCES = tests/fuzz/replay.c $(tests_fuzz_fuzz_serve_SOURCES)
tests_replay_serve_CPPFLAGS = $(tests_fuzz_fuzz_serve_CPPFLAGS)
tests_replay_serve_CFLAGS = $(tests_fuzz_fuzz_serve_CFLAGS)
tests_replay_serve_LDADD = $(tests_fuzz_fuzz_serve_LDADD)
tests_replay_xquery_SOURCES = tests/fuzz/replay.c $(tests_fuzz_fuzz_xquery_SOURCES)
tests_replay_xquery_LDADD = $(JS_INDEX_LIBS)
tests_fuzz_fuzz_query_LINK = $(JS_INDEX_LINK) $(tests_fuzz_fuzz_query_LDFLAGS)
tests_fuzz_fuzz_reader_LINK = $(JS_INDEX_LINK) $(tests_fuzz_fuzz_reader_LDFLAGS)
tests_fuzz_fuzz_xquery_LINK = $(JS_INDEX_LINK) $(tests_fuzz_fuzz_xquery_LDFLAGS)
tests_replay_query_LINK = $(JS_INDEX_LINK) $(tests_replay_query_LDFLAGS)
tests_replay_reader_LINK = $(JS_INDEX_LINK) $(tests_replay_reader_LDFLAGS)
tests_replay_xquery_LINK = $(JS_INDEX_LINK) $(tests_replay_xquery_LDFLAGS)
tests_fuzz_fuzz_serve_LINK = $(JS_INDEX_LINK) $(tests_fuzz_fuzz_serve_LDFLAGS)
tests_replay_serve_LINK = $(JS_INDEX_LINK) $(tests_replay_serve_LDFLAGS)
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/text.dict tests/fuzz/ingest.dict \
	tests/fuzz/query.dict tests/fuzz/serve.dict

### Benchmarks (run by scripts/bench, never by make check)
EXTRA_PROGRAMS += tests/bench/bench_analyze tests/bench/bench_ingest \
	tests/bench/bench_index_sizes
tests_bench_bench_analyze_SOURCES = tests/bench/bench_analyze.c tests/bench/benchutil.h
tests_bench_bench_ingest_SOURCES = tests/bench/bench_ingest.c tests/bench/benchutil.h
tests_bench_bench_index_sizes_LDADD = $(JS_INDEX_LIBS) $(STREAMVBYTE_LIBS)
tests_bench_bench_index_sizes_LINK = $(JS_INDEX_LINK)
# Xapian's own CJK n-gram mode, an outside reference (no libjiansuo)
if XAPIAN
EXTRA_PROGRAMS += tests/bench/xapian_ngram
tests_bench_xapian_ngram_SOURCES = tests/bench/xapian_ngram.cc
tests_bench_xapian_ngram_CXXFLAGS = $(AM_CXXFLAGS) $(XAPIAN_CFLAGS)
tests_bench_xapian_ngram_LDADD = $(XAPIAN_LIBS)
endif
CLEANFILES += $(EXTRA_PROGRAMS)
