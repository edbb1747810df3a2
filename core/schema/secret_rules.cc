#include "kehu/secret_rules.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_set>
#include <vector>

#include "kehu/error.h"
#include "kehu/text.h"

namespace kehu {

namespace {

// The most common passwords of leaked English and Chinese-context lists
// (CSDN, 163, 7k7k, RockYou, yearly "worst passwords" lists), lower case. Short
// ones matter too: a secret is also compared with its trailing digits and
// punctuation taken off, so "woaini" catches "woaini1314" and "Woaini520!".
constexpr std::string_view kCommon[] = {
    // digits
    "123456", "1234567", "12345678", "123456789", "1234567890", "0123456789", "12345", "1234",
    "123123", "123123123", "123321", "1234554321", "12344321", "123654", "123654789", "147258",
    "147258369", "159357", "159753", "258369", "321321", "456789", "654321", "7654321",
    "87654321", "987654321", "9876543210", "111111", "11111111", "000000", "00000000", "222222",
    "22222222", "333333", "33333333", "444444", "555555", "55555555", "666666", "66666666",
    "777777", "888888", "88888888", "8888888888", "999999", "99999999", "121212", "12121212",
    "112233", "11223344", "111222", "111222333", "123qwe", "123abc", "1q2w3e", "1q2w3e4r",
    "1q2w3e4r5t", "1qaz2wsx", "1qaz2wsx3edc", "2wsx3edc", "5201314", "52013145201314", "520520",
    "5205201314", "1314520", "13145200", "521521", "201314", "2008", "20082008", "168168",
    "518518", "668866", "886886", "168888", "888666", "666888", "198511", "19491001",
    "100200", "110110", "110120", "119119", "12369874", "147852", "14789632", "963852741",
    "789456123", "741852963", "159951", "753951", "246810", "13579", "135792468", "102030",
    "10203040", "123654987", "qq123456", "qq5201314", "woaini1314", "iloveyou1314",
    // words and keyboard walks
    "password", "passwd", "passw0rd", "p@ssw0rd", "p@ssword", "pass", "pass123", "password1",
    "password12", "password123", "mima", "mima123", "mimamima", "qwerty", "qwertyui",
    "qwertyuiop", "qwert", "qwer1234", "qweasd", "qweasdzxc", "qazwsx", "qazwsxedc", "asdf",
    "asdfgh", "asdfghjk", "asdfghjkl", "asdasd", "asd123", "zxcvbn", "zxcvbnm", "zxc123",
    "abc123", "abc12345", "abc123456", "abcd1234", "abcdef", "abcdefg", "abcdefgh", "a123456",
    "a1234567", "a12345678", "a123456789", "aa123456", "aaaaaa", "aa112233", "aaa111",
    "iloveyou", "iloveu", "woaini", "woaini520", "woaiwojia", "woaiziji", "wodemima",
    "nihao", "nihao123", "ni123456", "admin", "admin123", "admin888", "administrator", "root",
    "root123", "toor", "test", "test123", "test1234", "guest", "user", "user123", "login",
    "welcome", "welcome1", "letmein", "changeme", "default", "secret", "master", "monkey",
    "dragon", "shadow", "sunshine", "princess", "football", "baseball", "basketball", "soccer",
    "superman", "batman", "starwars", "pokemon", "naruto", "michael", "jennifer", "jordan",
    "jordan23", "hunter", "hunter2", "trustno1", "whatever", "freedom", "flower", "hello",
    "hello123", "helloworld", "charlie", "donald", "computer", "internet", "google", "baidu",
    "taobao", "tencent", "alibaba", "huawei", "xiaomi", "wechat", "weixin", "qq", "qqqqqq",
    "killer", "loveme", "lovely", "love", "love1314", "lovelove", "iloveyou520", "summer",
    "winter", "spring", "autumn", "chelsea", "liverpool", "arsenal", "yankees", "mustang",
    "harley", "ranger", "buster", "thomas", "robert", "daniel", "andrew", "joshua", "matthew",
    "ashley", "jessica", "amanda", "nicole", "samsung", "apple", "banana", "orange", "cheese",
    "cookie", "chocolate", "pepper", "ginger", "tigger", "maggie", "bailey", "access", "secure",
    "security", "system", "server", "database", "oracle", "mysql", "windows", "linux",
    "ubuntu", "kehu", "kehu123", "kehu2026", "company", "office", "sales", "manager",
    "qwe123", "qwe123456", "zaq12wsx", "!qaz2wsx", "1qazxsw2", "xsw2zaq1", "q1w2e3r4",
    "q1w2e3r4t5", "a1b2c3d4", "a1s2d3f4", "z1x2c3v4", "1a2b3c4d", "aaaaaaaa", "abcabc",
    // Chinese-context names and pinyin
    "zhangwei", "wangwei", "wangfang", "liwei", "lijing", "liuwei", "wangyang", "zhangjie",
    "zhangyong", "liuyang", "chenjing", "yangliu", "zhangsan", "lisi", "wangwu", "zhaoliu",
    "xiaoming", "xiaohong", "wangjing", "zhangmin", "lina", "liuyan", "zhangli", "wangli",
    "beijing", "shanghai", "shenzhen", "guangzhou", "hangzhou", "nanjing", "chengdu",
    "tianjin", "wuhan", "zhongguo", "china", "chinese", "aini1314", "aiai1314", "wanan",
    "xiaobai", "xiaohei", "laopo", "laogong", "laopo520", "laogong520", "baobei", "baobei520",
    "qingqing", "tiantian", "yueyue", "huanhuan", "lele", "dongdong", "pingan", "fuqi",
    "fuqi1314", "kuaile", "xingfu", "shengri", "mingtian", "jintian", "haoren", "huairen",
    "wocao", "nima", "caonima", "tamade", "shabi", "dashabi", "xiaoxiao", "aiqing",
    // the same in Chinese characters
    "密码", "我爱你", "我爱你一生一世", "一生一世", "一二三四五六", "一二三四五六七八", "不告诉你",
    "你好", "你好世界", "老公", "老婆", "宝贝", "中国", "中华人民共和国", "恭喜发财", "万事如意",
    "客户", "销售", "管理员"};

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool on_list(const std::string& s) {
  static const std::unordered_set<std::string_view> list(std::begin(kCommon), std::end(kCommon));
  return list.count(s) > 0;
}

// "abc" from "abc2024!!": trailing ASCII digits, punctuation and spaces off.
std::string without_tail(std::string s) {
  while (!s.empty()) {
    const unsigned char c = static_cast<unsigned char>(s.back());
    if (c >= 0x80 || std::isalpha(c)) break;
    s.pop_back();
  }
  return s;
}

// The code points of `s`, each as its UTF-8 bytes.
std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = 1;
    while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// One or two characters repeated (counted in code points: 啊啊啊啊, abab, an
// accented e of two), or one run of consecutive digits up or down.
bool trivial_pattern(std::string_view s) {
  if (s.empty()) return true;
  const std::vector<std::string_view> cps = code_points(s);
  for (std::size_t unit : {1, 2}) {
    bool repeats = cps.size() > unit;
    for (std::size_t i = unit; repeats && i < cps.size(); ++i) repeats = cps[i] == cps[i % unit];
    if (repeats) return true;
  }
  bool up = true, down = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    if (i == 0) continue;
    up = up && s[i] == (s[i - 1] == '9' ? '0' : s[i - 1] + 1);
    down = down && s[i] == (s[i - 1] == '0' ? '9' : s[i - 1] - 1);
  }
  return up || down;
}

}  // namespace

std::size_t utf8_chars(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_common_secret(std::string_view secret) {
  // Full-width forms are what an input method types for the same keys
  // (ｐａｓｓｗｏｒｄ is password); blanks of any width count as none.
  std::string s;
  for (char c : lower_ascii(fold_fullwidth(trim_view(secret)))) {
    if (c != ' ') s += c;
  }
  if (on_list(s) || trivial_pattern(s)) return true;
  const std::string core = without_tail(s);
  return core.empty() || on_list(core) || trivial_pattern(core);
}

void check_new_secret(std::string_view secret, std::string_view field, std::string_view user, Lang lang) {
  const bool zh = lang == Lang::zh;
  // "密码 (password)" reads run together with the Chinese after it ("(password)太短").
  const std::string name = std::string(field) + (zh && !field.empty() && field.back() == ')' ? " " : "");
  const std::size_t n = utf8_chars(secret);
  if (secret.size() > kMaxSecretBytes) {
    throw Error(Errc::validation, zh ? name + "太长：最多 " + std::to_string(kMaxSecretBytes) + " 字节"
                                     : name + " is too long: at most " + std::to_string(kMaxSecretBytes) + " bytes");
  }
  if (n < kMinSecretChars) {
    const std::string min = std::to_string(kMinSecretChars), has = std::to_string(n);
    throw Error(Errc::validation,
                zh ? name + "太短：至少 " + min + " 个字符（汉字、字母、数字都算一个），现在只有 " + has + " 个"
                   : name + " is too short: at least " + min +
                         " characters are needed (a Chinese character counts as one), it has " + has);
  }
  if (const char32_t cp = invisible_format(secret); cp != 0 || std::any_of(secret.begin(), secret.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
      })) {
    throw Error(Errc::validation, zh ? name + "不能含有控制字符或不可见字符（如零宽空格、双向控制符）"
                                     : name + " must not contain control characters or invisible ones (zero-width "
                                              "spaces, bidi controls)");
  }
  if (is_common_secret(secret)) {
    throw Error(Errc::validation,
                zh ? name + "太常见：它（或去掉末尾数字和符号后）在最常用密码名单上，或只是重复字符、连续数字；请换一个"
                   : name + " is too common: it (or what is left without its trailing digits and "
                            "punctuation) is on the list of the most used passwords, or is one "
                            "character repeated or a run of digits; choose another");
  }
  if (!user.empty()) {
    const std::string s = lower_ascii(secret), u = lower_ascii(user);
    // Inside a longer password, a name counts from three characters, or two
    // that are not ASCII: most Chinese names are two characters (王五), while
    // two ASCII letters ("ab") turn up in passwords by chance.
    const bool ascii = std::all_of(u.begin(), u.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    const std::size_t chars = utf8_chars(u);
    if (s == u || without_tail(s) == u || ((chars >= 3 || (chars >= 2 && !ascii)) && s.find(u) != std::string::npos)) {
      const std::string uname(user);
      throw Error(Errc::validation, zh ? name + "不能是或包含用户名 " + uname
                                       : name + " must not be or contain the user name " + uname);
    }
  }
}

}  // namespace kehu
