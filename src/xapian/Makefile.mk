## src/xapian/Makefile.mk — the Xapian backend, included by Makefile.am.
## Built unless ./configure --without-xapian; it is the only C++ code,
## and nothing outside this folder names a Xapian type.  Whatever links
## it is linked by the C++ driver (JS_INDEX_LINK in Makefile.am).

if XAPIAN
noinst_LTLIBRARIES += libjsxapian.la
libjsxapian_la_SOURCES = \
	src/xapian/xapian_shim.h src/xapian/xapian_shim.cc \
	src/xapian/xapian_build.h src/xapian/xapian_build.c \
	src/xapian/xapian_doc.h src/xapian/xapian_doc.c \
	src/xapian/xapian_writer.h src/xapian/xapian_writer.c \
	src/xapian/xapian_search.h src/xapian/xapian_search.c \
	src/xapian/xapian_backend.c
libjsxapian_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(JANSSON_CFLAGS)
libjsxapian_la_CXXFLAGS = $(AM_CXXFLAGS) -fvisibility=hidden $(XAPIAN_CFLAGS)
libjsxapian_la_LIBADD = $(XAPIAN_LIBS)
JS_XAPIAN_LA = libjsxapian.la
# The C++ driver brings libstdc++ and, with the sanitizers, their C++
# runtime (clang keeps UBSan's C++ checks in a library of their own):
# libtool drops -lstdc++ from a C++ library's dependencies, and a C link
# of these objects fails under clang's UBSan.
JS_INDEX_LINK = $(CXXLINK)
else
JS_INDEX_LINK = $(LINK)
JS_XAPIAN_LA =
EXTRA_DIST += \
	src/xapian/xapian_shim.h src/xapian/xapian_shim.cc \
	src/xapian/xapian_build.h src/xapian/xapian_build.c \
	src/xapian/xapian_doc.h src/xapian/xapian_doc.c \
	src/xapian/xapian_writer.h src/xapian/xapian_writer.c \
	src/xapian/xapian_search.h src/xapian/xapian_search.c \
	src/xapian/xapian_backend.c
endif
EXTRA_DIST += src/xapian/Makefile.mk
