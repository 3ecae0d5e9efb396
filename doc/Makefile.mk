## doc/Makefile.mk — the manual page and the bash completion, with their
## tests.  Included by the non-recursive Makefile.am, so every path here
## is relative to the top of the tree.

dist_man1_MANS = doc/jiansuo.1

# bash-completion loads completions/NAME when the command NAME is first
# completed, so the script is installed as "jiansuo": a copy in the build
# tree under that name lets the DATA primary install and uninstall it.
# configure chooses bashcompletiondir (--with-bash-completion-dir).
if BASH_COMPLETION
nodist_bashcompletion_DATA = doc/completion/jiansuo
endif
doc/completion/jiansuo: $(srcdir)/doc/jiansuo.bash
	$(AM_V_GEN)$(MKDIR_P) doc/completion && \
	cp $(srcdir)/doc/jiansuo.bash $@.tmp && mv $@.tmp $@
CLEANFILES += doc/completion/jiansuo doc/completion/jiansuo.tmp

# The page documents every command and option of --help, the completion
# offers them (both read the options from the program: see the scripts).
# They find doc/ through $srcdir, which the test driver exports.
TESTS += tests/man.sh tests/completion.sh
# (automake distributes this fragment itself.)
EXTRA_DIST += doc/jiansuo.bash tests/man.sh tests/completion.sh doc/jiansuo.service \
	doc/serve-page.png
