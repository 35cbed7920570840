"""Flag values used by httpd 2.4's directive tables (hand-written).

Values verified against httpd 2.4.x ``include/http_config.h``.

``command_rec.req_override`` bits (where a directive may appear; the
``OR_*`` bits are also the AllowOverride classes for .htaccess):
"""

# --- req_override (include/http_config.h, "ConfigDirectives") -----------
OR_NONE = 0          # not allowed in .htaccess
OR_LIMIT = 1         # .htaccess when AllowOverride Limit
OR_OPTIONS = 2       # .htaccess when AllowOverride Options
OR_FILEINFO = 4      # .htaccess when AllowOverride FileInfo
OR_AUTHCFG = 8       # .htaccess when AllowOverride AuthConfig
OR_INDEXES = 16      # .htaccess when AllowOverride Indexes
OR_UNSET = 32        # AllowOverride not set (never in a command table)
ACCESS_CONF = 64     # *.conf inside <Directory>/<Location>/<Files>/<If>
RSRC_CONF = 128      # *.conf outside <Directory>/<Location>/<Files>/<If>
EXEC_ON_READ = 256   # run while the config is being read (Include, IfModule..)
NONFATAL_OVERRIDE = 512   # AllowOverride violation in .htaccess not fatal
NONFATAL_UNKNOWN = 1024   # unknown directive in .htaccess not fatal
NONFATAL_ALL = NONFATAL_OVERRIDE | NONFATAL_UNKNOWN
PROXY_CONF = 2048    # *.conf inside <Proxy> only
OR_ALL = OR_LIMIT | OR_OPTIONS | OR_FILEINFO | OR_AUTHCFG | OR_INDEXES  # 31

# --- ap_check_cmd_context() "forbidden" bits (include/http_config.h) -----
NOT_IN_VIRTUALHOST = 0x01   # <VirtualHost>
NOT_IN_LIMIT = 0x02         # <Limit>/<LimitExcept>
NOT_IN_DIRECTORY = 0x04     # <Directory>/<DirectoryMatch>
NOT_IN_LOCATION = 0x08      # <Location>/<LocationMatch>
NOT_IN_FILES = 0x10         # <Files>/<FilesMatch> or <If>
NOT_IN_HTACCESS = 0x20      # .htaccess files
NOT_IN_PROXY = 0x40         # <Proxy>/<ProxyMatch>
NOT_IN_DIR_LOC_FILE = NOT_IN_DIRECTORY | NOT_IN_LOCATION | NOT_IN_FILES   # 0x1c
NOT_IN_DIR_CONTEXT = NOT_IN_LIMIT | NOT_IN_DIR_LOC_FILE | NOT_IN_PROXY    # 0x5e
GLOBAL_ONLY = NOT_IN_VIRTUALHOST | NOT_IN_DIR_CONTEXT                     # 0x5f

REQ_OVERRIDE_NAMES = (
    ("OR_LIMIT", OR_LIMIT), ("OR_OPTIONS", OR_OPTIONS),
    ("OR_FILEINFO", OR_FILEINFO), ("OR_AUTHCFG", OR_AUTHCFG),
    ("OR_INDEXES", OR_INDEXES), ("OR_UNSET", OR_UNSET),
    ("ACCESS_CONF", ACCESS_CONF), ("RSRC_CONF", RSRC_CONF),
    ("EXEC_ON_READ", EXEC_ON_READ), ("NONFATAL_OVERRIDE", NONFATAL_OVERRIDE),
    ("NONFATAL_UNKNOWN", NONFATAL_UNKNOWN), ("PROXY_CONF", PROXY_CONF),
)

CHECK_CONTEXT_NAMES = (
    ("NOT_IN_VIRTUALHOST", NOT_IN_VIRTUALHOST), ("NOT_IN_LIMIT", NOT_IN_LIMIT),
    ("NOT_IN_DIRECTORY", NOT_IN_DIRECTORY), ("NOT_IN_LOCATION", NOT_IN_LOCATION),
    ("NOT_IN_FILES", NOT_IN_FILES), ("NOT_IN_HTACCESS", NOT_IN_HTACCESS),
    ("NOT_IN_PROXY", NOT_IN_PROXY),
)


def describe(value, names=REQ_OVERRIDE_NAMES):
    """'RSRC_CONF|OR_FILEINFO'-style rendering of a flag word (debug aid)."""
    if not value:
        return "0"
    parts = [n for n, bit in names if value & bit]
    rest = value & ~sum(bit for _, bit in names)
    if rest:
        parts.append(hex(rest))
    return "|".join(parts)
