search title:机床
