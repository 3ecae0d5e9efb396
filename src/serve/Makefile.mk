## src/serve/Makefile.mk — `jiansuo serve`, included by Makefile.am.
## Like the CLI, the server sees only the public header (src/include) and
## its own folder, and src/cli for the JSON shared with `search --json`.
## Its request handling (handler, records, write queue) is a convenience
## library of its own, so that tests and the fuzz target drive it
## without libmicrohttpd; daemon.c, the only file that knows
## libmicrohttpd, goes into the program alone.

noinst_LTLIBRARIES += libjsserve.la
libjsserve_la_SOURCES = src/serve/serve.h src/serve/handler.c \
	src/serve/records.c src/serve/writeq.c src/cli/json_out.h \
	src/cli/json_out.c
nodist_libjsserve_la_SOURCES = src/serve/assets.c
libjsserve_la_CPPFLAGS = -I$(srcdir)/src/include -I$(srcdir)/src/serve \
	-I$(srcdir)/src/cli
libjsserve_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) -pthread

jiansuo_SOURCES += src/cli/cmd_serve.c src/serve/daemon.h src/serve/daemon.c
jiansuo_CPPFLAGS += -I$(srcdir)/src/serve
jiansuo_CFLAGS += $(MHD_CFLAGS) -pthread
jiansuo_LDADD += $(MHD_LIBS) -lpthread

# The page: its files compiled into the binary (no file is served from
# disk), as byte arrays by src/serve/gen_assets.sh.
JS_PAGE_ASSETS = src/serve/page/index.html src/serve/page/app.css \
	src/serve/page/app.js
src/serve/assets.c: $(JS_PAGE_ASSETS) $(srcdir)/src/serve/gen_assets.sh
	$(AM_V_GEN)$(MKDIR_P) src/serve && \
	$(SHELL) $(srcdir)/src/serve/gen_assets.sh $(srcdir) $(JS_PAGE_ASSETS) > $@.tmp && \
	mv $@.tmp $@
BUILT_SOURCES += src/serve/assets.c
CLEANFILES += src/serve/assets.c src/serve/assets.c.tmp
EXTRA_DIST += src/serve/Makefile.mk src/serve/gen_assets.sh $(JS_PAGE_ASSETS)
