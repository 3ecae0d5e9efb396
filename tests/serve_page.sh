#!/bin/sh
# serve_page.sh — the search page `jiansuo serve` serves at /, in a real
# browser: headless Chromium driven by Selenium (tests/serve_page.py).
#
# In:  $JIANSUO, the built binary; /usr/bin/chromium, /usr/bin/chromedriver
#      and Debian's python3-selenium for /usr/bin/python3 (else the test
#      is skipped, status 77).
# Out: builds a small index of invented Simplified-Chinese texts, starts
#      `jiansuo serve` on a free port of 127.0.0.1, runs serve_page.py
#      against it (screenshots serve-page.png and serve-page-phone.png
#      land in the current directory), stops the server and exits with
#      the test's status.
set -u
: "${JIANSUO:?JIANSUO must name the jiansuo binary}"
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
for f in /usr/bin/chromium /usr/bin/chromedriver $py; do
    if [ ! -x "$f" ]; then
        echo "serve_page: $f not found: skipped"
        exit 77
    fi
done
if ! $py -c 'import selenium.webdriver' 2>/dev/null; then
    echo "serve_page: python3-selenium not installed: skipped"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jiansuo-page.XXXXXX") || exit 1
pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The corpus.  ops.md: 30 node sections that all hold 数据库 and 检查
# (the Traditional query 數據庫 檢查 pages through them); backup.md:
# three sections with both 数据库 and 备份, one with 备份 alone (so
# 數據庫 備份 has three strict hits and many partial ones); notes.jsonl:
# records with ids, one naming PostgreSQL (the Latin prefix query).
d=$tmp/docs
mkdir -p "$d"
{
    printf '# 数据库运维手册\n\n本手册写给值班的运维人员，说明机房里每台服务器的日常工作。\n\n'
    i=1
    for room in 北楼 南楼 东楼 西楼 新楼 旧楼; do
        for task in 连接数 磁盘用量 慢查询日志 复制延迟 内存占用; do
            n=$(printf '%02d' $i)
            printf '## 节点 %s（%s）\n\n' "$n" "$room"
            printf '%s第%s号节点上的数据库每天早上检查一次，重点看%s。' "$room" "$n" "$task"
            if [ $((i % 3)) = 0 ]; then
                printf '如果%s异常，先检查网络，再检查数据库的配置文件。' "$task"
            fi
            if [ $((i % 4)) = 1 ]; then
                printf '检查结果写进值班记录，交班时当面说明。'
            fi
            printf '\n\n'
            i=$((i + 1))
        done
    done
} >"$d/ops.md"
cat >"$d/backup.md" <<'TXT'
# 备份与恢复

## 全量备份

每周日凌晨对每个数据库做一次全量备份，备份文件写到另一座楼的存储上，保留八周。

## 增量备份

工作日每小时做一次增量备份。增量文件很小，但恢复数据库时必须按顺序一个个应用。

## 恢复演练

每个季度从备份中挑一个数据库恢复到测试机上，核对行数和校验和，并记下用了多少分钟。

## 磁带保管

离线备份的磁带放在防火柜里，钥匙由两位同事分别保管，取用时要登记。
TXT
cat >"$d/notes.jsonl" <<'TXT'
{"id":"pg-1","title":"PostgreSQL 连接池","text":"业务高峰时连接数会涨到三千。我们在 PostgreSQL 前面放了一层连接池，把真正的连接控制在两百以内。"}
{"id":"xp-1","title":"全文检索引擎","text":"站内搜索原来用 Xapian，后来换成了自己写的引擎，中文分词改成按字建索引。"}
{"id":"ops-7","title":"交班清单","text":"交班前确认告警都已处理，备份任务没有失败，值班手机电量充足。"}
TXT

if ! "$JIANSUO" index -d "$tmp/index" "$d" >"$tmp/log" 2>&1; then
    echo "serve_page: indexing failed:"
    cat "$tmp/log"
    exit 1
fi

"$JIANSUO" serve -d "$tmp/index" --listen 127.0.0.1:0 2>"$tmp/serve.err" &
pid=$!
url=
i=0
while [ $i -lt 100 ]; do
    url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$tmp/serve.err" | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
if [ -z "$url" ]; then
    echo "serve_page: the server did not say where it listens:"
    cat "$tmp/serve.err"
    exit 1
fi

# The test stops itself within a minute; timeout(1) is a second guard.
to=
command -v timeout >/dev/null 2>&1 && to="timeout 120"
$to $py "$here/serve_page.py" "$url"
status=$?
if [ $status != 0 ] && [ $status != 77 ]; then
    echo "serve_page: the server's log:"
    cat "$tmp/serve.err"
fi
exit $status
