## src/cli/Makefile.mk — the jiansuo program, included by Makefile.am.
## A thin client of libjiansuo: compiled with only the public header
## (src/include) and its own folder on the include path, and linked
## against the shared library's exported symbols alone, so that the
## compiler and the linker refuse any use of the library's internals.

bin_PROGRAMS = jiansuo
jiansuo_SOURCES = src/cli/jiansuo.c src/cli/cli.h src/cli/cmd_analyze.c \
	src/cli/cmd_sections.c src/cli/cmd_index.c src/cli/cmd_stats.c \
	src/cli/cmd_check.c src/cli/cmd_search.c src/cli/cmd_write.c
jiansuo_CPPFLAGS = -I$(srcdir)/src/include -I$(srcdir)/src/cli
jiansuo_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
# libjsserve (src/serve/Makefile.mk) before the library it calls
jiansuo_LDADD = libjsserve.la libjiansuo.la $(JANSSON_LIBS)
# the library's C++ (Xapian) wants the C++ driver's runtime at the
# program's link too: with clang's sanitizers, their C++ part
jiansuo_LINK = $(JS_INDEX_LINK) $(jiansuo_LDFLAGS)
EXTRA_DIST += src/cli/Makefile.mk
