#include "help_zh.h"

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <regex>

#include "kehu/text.h"

namespace kehu::cli {
namespace {

using Catalog = std::map<std::string, std::string>;

// The child-record commands (main.cc add_child_commands) say their noun.
void add_child_phrases(Catalog& c, const std::string& name, const std::string& plural, const std::string& zh) {
  c["add " + article(name) + " " + name + " to a customer"] = "给客户添加" + zh;
  c["list a customer's " + plural + ", with their IDs"] = "列出客户的" + zh + "及其编号";
  c["change fields of a " + name] = "修改" + zh + "的字段";
  c["the ID `" + name + " list` shows"] = "`" + name + " list` 显示的编号";
  c["move a " + name + " to the recycle bin"] = "把" + zh + "移入回收站";
  c["bring a " + name + " back from the recycle bin"] = "从回收站恢复" + zh;
}

const Catalog& catalog() {
  static const Catalog c = [] {
    Catalog c = {
        {"kehu: offline-first customer table (encrypted local replica, field-level sync)",
         "kehu：离线优先的客户表（加密的本地副本，按字段合并同步）"},
        {"Print this help message and exit", "显示本帮助并退出"},
        {"customer code", "客户编号"},
        {"customer code, or the record id `kehu conflicts` shows", "客户编号，或 `kehu conflicts` 显示的记录编号"},
        {"FIELD=VALUE (key or Chinese label)", "字段=值（字段键或中文名）"},
        {"list the recycle bin", "列出回收站里的"},
        {"FIELD=VALUE; an empty VALUE clears the field", "字段=值；值为空则清空该字段"},
        {"replica file (default: KEHU_DB or ~/.kehu/replica.db)", "本地副本文件（默认：KEHU_DB 或 ~/.kehu/replica.db）"},
        {"read the passphrase from this file's first line", "从这个文件的第一行读取口令"},
        {"print data as JSON", "以 JSON 输出数据"},
        {"tables show every cell whole instead of fitting the terminal's width", "表格显示每个单元格的全部内容，不按终端宽度截断"},
        {"show times in UTC, not in the local time zone (--json is always UTC)", "时间按 UTC 显示，而不是本地时区（--json 总是 UTC）"},
        {"create a new encrypted replica", "新建加密的本地副本"},
        {"add, edit, show, list, delete customers", "添加、修改、查看、列出、删除客户"},
        {"add a customer; prints its new code", "添加客户；输出新客户编号"},
        {"add even if it looks like a duplicate (same phone, WeChat or name)", "即使疑似重复（电话、微信或名称相同）也添加"},
        {"change fields of a customer", "修改客户的字段"},
        {"show one customer", "查看一个客户"},
        {"list customers", "列出客户"},
        {"FIELD=VALUE filter (repeatable)", "按 字段=值 筛选（可重复）"},
        {"text in code, name, contact, phone, need or notes", "在编号、名称、联系人、电话、需求或备注中搜索文字"},
        {"field to sort by; -FIELD for descending", "排序字段；-字段 表示降序"},
        {"sort text by pinyin (安 < 北 < 张), e.g. --sort name --pinyin", "按拼音排序文字（安 < 北 < 张），如 --sort name --pinyin"},
        {"at most this many (0: all)", "最多显示这么多条（0：全部）"},
        {"skip this many matches first (the next page: --offset 50 --limit 50)",
         "跳过前面这么多条（翻到下一页：--offset 50 --limit 50）"},
        {"customers with this tag (repeatable: all must be on it)", "带这个标签的客户（可重复：须带有全部标签）"},
        {"PROVINCE or PROVINCE/CITY, e.g. 江苏 or 江苏/南京", "省 或 省/市，如 江苏 或 江苏/南京"},
        {"customers of this owner (负责人)", "这个负责人的客户"},
        {"customers in the public pool (公海), with no owner", "公海里的客户（没有负责人）"},
        {"sales stage (销售阶段): key or Chinese label", "销售阶段：键或中文名"},
        {"not followed up in DAYS days (never followed up counts)", "DAYS 天内没有跟进（从未跟进也算）"},
        {"move a customer to the recycle bin", "把客户移入回收站"},
        {"bring a customer back from the recycle bin", "从回收站恢复客户"},
        {"likely duplicates: customers sharing a phone, WeChat or name", "疑似重复：电话、微信或名称相同的客户"},
        {"merge OTHER into KEEP (children move, OTHER to the recycle bin)",
         "把 OTHER 合并到 KEEP（下属记录随之转移，OTHER 移入回收站）"},
        {"the customer that stays", "保留的客户"},
        {"the customer merged into it", "被合并进来的客户"},
        {"show what would happen, write nothing", "只显示将会发生什么，不写入"},
        {"take a customer from the public pool (公海)", "从公海认领客户"},
        {"return your customer to the public pool (公海)", "把自己的客户退回公海"},
        {"why it goes back to the pool", "退回公海的原因"},
        {"give a customer to another user (managers)", "把客户转给另一个用户（经理）"},
        {"the new owner", "新负责人"},
        {"why", "原因"},
        {"change requests of protected fields", "受保护字段的修改申请"},
        {"decided ones too", "也列出已处理的"},
        {"approve a change request (managers)", "批准修改申请（经理）"},
        {"request id (see `kehu approvals`)", "申请编号（见 `kehu approvals`）"},
        {"reject a change request (managers)", "驳回修改申请（经理）"},
        {"follow-ups of a customer", "客户的跟进记录"},
        {"orders of a customer", "客户的订单"},
        {"contacts of a customer", "客户的联系人"},
        {"service records of a customer (咨询, 投诉, 反馈)", "客户的服务记录（咨询、投诉、反馈）"},
        {"marketing activities a customer took part in", "客户参加的营销活动"},
        {"revisions of a customer, newest first", "客户的修订历史，最新的在前"},
        {"only revisions that changed this field", "只看改过这个字段的修订"},
        {"import a sheet: .csv (UTF-8 or GB18030) or .xlsx", "导入表格：.csv（UTF-8 或 GB18030）或 .xlsx"},
        {"the sheet", "表格文件"},
        {"validate and report creates, updates and conflicts; write nothing", "检查并报告将新建、更新和冲突的行；不写入"},
        {"import the good rows even if some are bad", "即使有错行也导入正确的行"},
        {"the worksheet of an .xlsx workbook (default: the first)", ".xlsx 工作簿中的工作表（默认：第一个）"},
        {"\"列名=field\": the column 列名 fills field (repeatable; remembered for these headers)",
         "\"列名=字段\"：用“列名”这一列填写该字段（可重复；会为这组表头记住）"},
        {"import rows that look like duplicates of other customers", "导入看起来与其他客户重复的行"},
        {"the sheet row (1-based) holding the column headers (default: found among the first 10 rows)",
         "表头所在的行号（从 1 开始；默认在前 10 行中自动查找）"},
        {"where to write the possible duplicates found within the sheet (default: SHEET.duplicates.csv beside it)",
         "表内疑似重复清单写到哪里（默认：表格旁的 表格名.duplicates.csv）"},
        {"export customers: .csv (UTF-8 with BOM) or .xlsx (Excel)", "导出客户：.csv（带 BOM 的 UTF-8）或 .xlsx（Excel）"},
        {"output file", "输出文件"},
        {"replace FILE if it exists (without it an existing file is kept and nothing is written)",
         "FILE 已存在时覆盖它（不加时保留原文件，什么都不写）"},
        {"merge two customers that share no name, phone or WeChat", "合并两个名称、电话、微信都不相同的客户"},
        {"replica, sync and pending-change status", "本地副本、同步和待同步修改的状态"},
        {"write a consistent encrypted copy", "写一份完整一致的加密备份"},
        {"destination", "备份文件"},
        {"change the passphrase", "更换口令"},
        {"log in to the team's server", "登录团队服务器"},
        {"server URL, e.g. https://kehu.example.com", "服务器地址，如 https://kehu.example.com"},
        {"user name", "用户名"},
        {"trust this CA bundle", "信任这个 CA 证书文件"},
        {"skip TLS certificate checks (development only)", "不检查 TLS 证书（仅用于开发）"},
        {"revoke the session token on the server and forget it here", "在服务器上作废登录凭据，并在本机删除"},
        {"change your password on the server (KEHU_PASSWORD / KEHU_NEW_PASSWORD or prompts)",
         "在服务器上修改密码（KEHU_PASSWORD / KEHU_NEW_PASSWORD，或按提示输入）"},
        {"push local changes, then pull the team's", "上传本机修改，再下载团队的修改"},
        {"keep syncing: push each edit at once, receive the team's as they land; Ctrl-C stops",
         "持续同步：每次修改立即上传，团队的修改一到就收下；按 Ctrl-C 停止"},
        {"list open conflicts", "列出未解决的冲突"},
        {"keep one side of a conflict", "保留冲突的一方"},
        {"field key or label", "字段键或字段名"},
        {"theirs|mine|current (the value the field holds now)", "theirs（对方的）| mine（我的）| current（字段现在的值）"},
        {"edits the server refused, kept with what was typed", "被服务器拒绝的修改，连同输入的内容一起保留"},
        {"re-apply a refused edit, changed with --set / --drop", "重新提交被拒的修改，可用 --set / --drop 调整"},
        {"the # that `kehu rejected` shows", "`kehu rejected` 显示的编号"},
        {"FIELD=VALUE to apply instead of what was typed", "用 字段=值 代替原来输入的值"},
        {"a field of the edit to leave out", "不再提交的字段"},
        {"forget a refused edit", "放弃被拒的修改"},
        {"revisions on the server by user, date and customer (newest first)", "按用户、日期和客户查看服务器上的修订（最新的在前）"},
        {"only this user's revisions", "只看这个用户的修订"},
        {"from this day (YYYY-MM-DD, local; or today) or UTC time", "从这一天起（YYYY-MM-DD，本地时间；或 today），或 UTC 时间"},
        {"up to this day, included (YYYY-MM-DD, local; or today)", "到这一天为止，含当天（YYYY-MM-DD，本地时间；或 today）"},
        {"a customer (code or old code) and its child records", "一个客户（编号或旧编号）及其下属记录"},
        {"show at most this many (default 100)", "最多显示这么多条（默认 100）"},
        {"restore a customer's fields as they were at a revision", "把客户的字段恢复到某个修订时的样子"},
        {"customer code (or a record id)", "客户编号（或记录编号）"},
        {"the server revision to go back to", "要恢复到的服务器修订号"},
        {"only this field", "只恢复这个字段"},
        {"follow-ups due, birthdays, quiet intention customers, churn candidates", "到期的跟进、生日、久未跟进的意向客户、流失预警"},
        {"look this many days ahead (default 7)", "往后看这么多天（默认 7）"},
        {"at most this many per list (0 = all)", "每个列表最多这么多条（0 = 全部）"},
        {"the reminder rules; an admin sets churn-days", "提醒规则；管理员可设置 churn-days"},
        {"set a rule for the whole team (admin): churn-days N | stage-probability contact=10,needs=25,... | "
         "target OWNER PERIOD AMOUNT",
         "为全团队设置规则（管理员）：churn-days 天数 | stage-probability contact=10,needs=25,... | target 负责人 期间 金额"},
        {"churn-days, stage-probability or target", "churn-days、stage-probability 或 target"},
        {"days | STAGE=PERCENT,... | OWNER PERIOD(YYYY, YYYY-MM, YYYY-Qn) YUAN",
         "天数 | 阶段=百分比,... | 负责人 期间（YYYY、YYYY-MM、YYYY-Qn） 元"},
        {"remove a team target (admin): target OWNER PERIOD", "删除团队目标（管理员）：target 负责人 期间"},
        {"target", "目标"},
        {"OWNER PERIOD", "负责人 期间"},
        {"set deal customers quiet for churn-days to lost", "把 churn-days 天没有动静的成交客户设为流失"},
        {"list them, change nothing", "只列出，不修改"},
        {"funnel, sources, churn, sum, targets, forecast, value (RFM)", "漏斗、来源、流失、汇总、目标、预测、价值（RFM）"},
        {"also write the table to this CSV file", "同时把表写到这个 CSV 文件"},
        {"also write an Excel workbook with a chart", "同时写一个带图表的 Excel 工作簿"},
        {"customers per sales stage and conversion between stages", "各销售阶段的客户数及阶段间转化率"},
        {"owner, region (province) or city", "负责人、地区（省）或城市"},
        {"customers and conversion per source, per quarter", "按季度统计各来源的客户数和转化率"},
        {"only this year", "只看这一年"},
        {"lost customers per year and reason", "按年份和原因统计流失客户"},
        {"sum of a field: orders.amount --by customer|owner|region|month", "某字段的合计：orders.amount --by customer|owner|region|month"},
        {"COLLECTION.FIELD, e.g. orders.amount", "表.字段，如 orders.amount"},
        {"customer, owner, region or month", "按客户、负责人、地区或月份"},
        {"FIELD=VALUE (repeatable), e.g. status=delivered", "字段=值（可重复），如 status=delivered"},
        {"targets against delivered order amounts, per owner and period", "按负责人和期间对比目标与已交付订单金额"},
        {"open pipeline weighted by stage probability, per owner and month", "按负责人和月份，以阶段概率加权的在谈金额"},
        {"customer value by recency, frequency and amount (RFM)", "按最近一次、频次和金额评估客户价值（RFM）"},
        {"customers listed per segment (default 20, 0 = all)", "每个分组列出的客户数（默认 20，0 = 全部）"},
        {"the fields of each collection; an admin adds custom fields", "各表的字段；管理员可添加自定义字段"},
        {"add a custom field for the whole team (admin, online)", "为全团队添加自定义字段（管理员，需联网）"},
        {"customers, followups, orders, ...", "customers、followups、orders 等"},
        {"canonical key: [a-z][a-z0-9_]{0,31}", "字段键：[a-z][a-z0-9_]{0,31}"},
        {"text, integer, money, date, datetime, enum, tags, phone, email",
         "text（文本）、integer（整数）、money（金额）、date（日期）、datetime（日期时间）、enum（枚举）、tags（标签）、phone（电话）、email（邮箱）"},
        {"Chinese label, e.g. 会员等级", "中文名，如 会员等级"},
        {"English label (default: the Chinese one)", "英文名（默认与中文名相同）"},
        {"enum values: \"金卡,银卡\" or \"gold:金卡,silver:银卡\"", "枚举值：\"金卡,银卡\" 或 \"gold:金卡,silver:银卡\""},
        {"new records must have it", "新记录必须填写"},
        {"never sent to sales users (like 信用等级)", "从不发给销售（如 信用等级）"},
        {"built-in and custom fields, with type, label and rules", "内置和自定义字段，含类型、名称和规则"},
        {"only this collection", "只看这个表"},
    };
    add_child_phrases(c, "followup", "followups", "跟进记录");
    add_child_phrases(c, "order", "orders", "订单");
    add_child_phrases(c, "contact", "contacts", "联系人");
    add_child_phrases(c, "service", "services", "服务记录");
    add_child_phrases(c, "activity", "activities", "活动记录");
    return c;
  }();
  return c;
}

std::string zh_of(const std::string& en) {
  auto it = catalog().find(en);
  return it == catalog().end() ? en : it->second;
}

// CLI11 pads option names by bytes; Chinese labels (文本, 必填) are two
// columns wide in three bytes, so this pads by display width instead.
class ZhFormatter : public CLI::Formatter {
 public:
  std::string make_option(const CLI::Option* opt, bool is_positional) const override {
    const std::string name = "  " + make_option_name(opt, is_positional) + make_option_opts(opt);
    const std::string desc = make_option_desc(opt);
    const std::size_t width = display_width(name), column = get_column_width();
    std::string out = name;
    if (!desc.empty()) out += width >= column ? "\n" + std::string(column, ' ') : std::string(column - width, ' ');
    return out + desc + "\n";
  }
};

void localize(CLI::App& app, const std::shared_ptr<CLI::Formatter>& formatter) {
  app.formatter(formatter);
  app.description(zh_of(app.get_description()));
  if (!app.get_name().empty() && app.get_group() == "Subcommands") app.group("子命令");
  for (CLI::Option* opt : app.get_options()) {
    opt->description(zh_of(opt->get_description()));
    if (opt->get_group() == "Options") opt->group("选项");
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) localize(*sub, formatter);
}

// The subcommands the command line named, outermost first ("customer add").
std::string command_path(const CLI::App& app) {
  std::string path;
  const CLI::App* at = &app;
  for (;;) {
    const std::vector<CLI::App*> parsed = at->get_subcommands();
    if (parsed.empty()) return path;
    at = parsed.back();
    path += " " + at->get_name();
  }
}

}  // namespace

void localize_help(CLI::App& app) {
  auto f = std::make_shared<ZhFormatter>();
  for (const auto& [en, zh] : std::map<std::string, std::string>{
           {"Usage", "用法"}, {"OPTIONS", "选项"}, {"SUBCOMMAND", "子命令"}, {"SUBCOMMANDS", "子命令"},
           {"Positionals", "位置参数"}, {"REQUIRED", "必填"}, {"TEXT", "文本"}, {"INT", "整数"},
           {"UINT", "非负整数"}, {"FLOAT", "数"}, {"Needs", "需要"}, {"Excludes", "排除"}, {"Env", "环境变量"}}) {
    f->label(en, zh);
  }
  localize(app, f);
}

namespace {

// The deepest subcommand the command line named.
const CLI::App& innermost(const CLI::App& app) {
  const CLI::App* at = &app;
  for (auto parsed = at->get_subcommands(); !parsed.empty(); parsed = at->get_subcommands()) at = parsed.back();
  return *at;
}

// What a value of `option` must look like, from its CLI11 type ("" when unknown).
std::string value_rule(const CLI::App& app, const std::string& option, bool zh) {
  const CLI::Option* o = innermost(app).get_option_no_throw(option);
  if (o == nullptr) return "";
  const std::string type = o->get_type_name();
  if (type == "INT") return zh ? "应为整数，如 30" : "expected a whole number, e.g. 30";
  if (type == "UINT") return zh ? "应为 0 或正整数，如 30" : "expected a whole number of 0 or more, e.g. 30";
  if (type == "FLOAT") return zh ? "应为数字，如 2.5" : "expected a number, e.g. 2.5";
  return "";
}

// A positional argument's name as a Chinese message says it ("NUMBER" -> 编号).
std::string argument_name(const std::string& name, bool zh) {
  if (!zh) return name;
  static const std::map<std::string, std::string> names = {
      {"CODE", "客户编号"}, {"COLLECTION", "表"},     {"FIELD", "字段"}, {"FILE", "文件"},   {"ID", "记录 ID"},
      {"KEY", "字段键"},    {"NAME", "名称"},       {"NUMBER", "编号"}, {"OTHER", "另一个客户编号"},
      {"USER", "用户名"},   {"VALUE", "值"},        {"KEEP", "保留哪一方"}};
  auto it = names.find(name);
  return it == names.end() ? name : it->second;
}

}  // namespace

std::string parse_error_text(const CLI::App& app, const CLI::ParseError& e, bool zh) {
  const std::string what = e.what();
  std::smatch m;
  std::string said;
  if (what == "A subcommand is required" || std::regex_match(what, std::regex("Requires at least .* subcommands"))) {
    said = zh ? "缺少子命令" : "a subcommand is missing";
  } else if (std::regex_match(what, m, std::regex("(.+) is required"))) {
    said = (zh ? "缺少 " : "missing ") + argument_name(m[1].str(), zh);
  } else if (std::regex_match(what, m, std::regex("Could not convert: (.+) = (.*)"))) {
    const std::string rule = value_rule(app, m[1].str(), zh);
    said = zh ? argument_name(m[1].str(), zh) + " 的值“" + m[2].str() + "”格式不对" + (rule.empty() ? "" : "：" + rule)
              : m[1].str() + " \"" + m[2].str() + "\" is not valid" + (rule.empty() ? "" : ": " + rule);
  } else if (std::regex_match(what, m, std::regex("The value (.+) is not an allowed value for (.+)"))) {
    said = zh ? m[1].str() + " 不是 " + m[2].str() + " 允许的值" : m[1].str() + " is not allowed for " + m[2].str();
  } else if (std::regex_match(what, m, std::regex("The following arguments? (?:was|were) not expected: (.*)"))) {
    said = (zh ? "多余的参数：" : "unexpected arguments: ") + m[1].str();
  } else if (std::regex_match(what, m, std::regex("(.+): \\d+ required \\S+ missing"))) {
    said = m[1].str() + (zh ? " 后面缺少值" : " needs a value after it");
  } else if (std::regex_match(what, m, std::regex("Expected (?:exactly|at least) (\\d+) arguments? to (.+), got (\\d+)"))) {
    said = zh ? m[2].str() + " 需要 " + m[1].str() + " 个值，实际给了 " + m[3].str() + " 个"
              : m[2].str() + " needs " + m[1].str() + " values, got " + m[3].str();
  } else if (std::regex_match(what, m, std::regex("(.+): expected a whole number, 0 or more, not (.*)"))) {
    said = zh ? argument_name(m[1].str(), zh) + " 的值“" + m[2].str() + "”不对：应为 0 或正整数"
              : m[1].str() + " \"" + m[2].str() + "\" is not valid: expected a whole number, 0 or more";
  } else if (std::regex_match(what, m, std::regex("(.+): At Most (\\d+) required but received (\\d+)"))) {
    // An option typed twice (walkthrough 14, R14-16).
    const bool once = m[2].str() == "1";
    said = zh ? argument_name(m[1].str(), zh) + (once ? " 只能给一次" : " 最多给 " + m[2].str() + " 次") + "，实际给了 " +
                    m[3].str() + " 次"
              : m[1].str() + (once ? " may be given once" : " may be given at most " + m[2].str() + " times") +
                    ", not " + m[3].str() + " times";
  } else if (std::regex_match(what, m, std::regex("Requires at most (\\d+) options? be (?:given|used).* from \\[(.+)\\]"))) {
    said = zh ? m[2].str() + " 中最多只能给 " + m[1].str() + " 个"
              : "at most " + m[1].str() + " of " + m[2].str() + " may be given";
  } else if (std::regex_match(what, m, std::regex("(.+) requires (.+)"))) {
    said = zh ? m[1].str() + " 需要同时给出 " + m[2].str() : m[1].str() + " needs " + m[2].str() + " too";
  } else if (std::regex_match(what, m, std::regex("(.+) excludes (.+)"))) {
    said = zh ? m[1].str() + " 不能与 " + m[2].str() + " 同时使用"
              : m[1].str() + " cannot be used with " + m[2].str();
  } else {
    said = (zh ? "命令行有误：" : "") + what;
  }
  return said + (zh ? "\n运行 `kehu" + command_path(app) + " --help` 查看用法"
                    : "\nrun `kehu" + command_path(app) + " --help` for usage");
}

}  // namespace kehu::cli
