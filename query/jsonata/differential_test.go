package jsonata

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posluha/posluha/query/value"
)

// The differential test runs a table of expressions through jsonata-js
// 2.0.6 (one node process for the whole table) and through this package,
// and compares the JSON text of the results (so key order and number
// formatting count) or the error codes.

const jsonataModule = "../../node_modules/jsonata"

const diffDoc = `{"Account":{"Account Name":"Firefly","Order":[{"OrderID":"order103","Product":[{"Product Name":"Bowler Hat","ProductID":858383,"SKU":"0406654608","Description":{"Colour":"Purple","Width":300,"Height":200,"Depth":210,"Weight":0.75},"Price":34.45,"Quantity":2},{"Product Name":"Trilby hat","ProductID":858236,"SKU":"0406634348","Description":{"Colour":"Orange","Width":300,"Height":200,"Depth":210,"Weight":0.6},"Price":21.67,"Quantity":1}]},{"OrderID":"order104","Product":[{"Product Name":"Bowler Hat","ProductID":858383,"SKU":"040657863","Description":{"Colour":"Purple","Width":300,"Height":200,"Depth":210,"Weight":0.75},"Price":34.45,"Quantity":4},{"ProductID":345664,"SKU":"0406654603","Product Name":"Cloak","Description":{"Colour":"Black","Width":30,"Height":20,"Depth":210,"Weight":2},"Price":107.99,"Quantity":1}]}]},"nums":[1,2,3,4.5],"nested":[[1,2],[3,[4,5]],6],"obj":{"b":1,"a":2,"10":3,"2":4},"single":[7],"empty":[],"str":"Hello World","n":null,"t":true}`

var diffExprs = []string{
	// paths, singletons, flattening
	`Account.Order.Product.Price`,
	`Account.Order[0].Product[0].Price`,
	`Account.Order.Product[0].Price`,
	`Account.Order.(Product[0]).Price`,
	`Account.Order.Product.Price[0]`,
	`Account.Order[1].Product[-1]."Product Name"`,
	`single`, `single[]`, `single[0]`, `Account.Order[0].OrderID[]`,
	`nested`, `nested.$`, `nested[0]`, `nested.[$]`, `$.nested[1][1]`,
	`empty`, `empty[0]`, `nums[[1..2]]`, `nums[$ > 2]`, `nums[-1]`, `nums[1.7]`,
	`Account.Order.Product[Price > 30].SKU`,
	`Account.Order.Product.Description.*`,
	`obj.*`, `**.Colour`, `Account.**.Weight`, `*.Order[0].OrderID`,
	`Account.Order.Product{"name": "Product Name", "p": Price}`,
	`Account.Order.Product{"Product Name": Price}`,
	`Account.Order.Product{"Product Name": $sum(Price)}`,
	`Account.Order.Product.{"n": "Product Name"}`,
	`{"a": 1, "b": [], "c": nothing, "10": 2, "1": 3}`,
	`Account.Order.Product^(Price).SKU`,
	`Account.Order.Product^(>Price, "Product Name")."Product Name"`,
	`Account.Order.Product@$p.Description@$d.{"n": $p."Product Name", "w": $d.Weight}`,
	`Account.Order#$i.Product.{"i": $i, "sku": SKU}`,
	`Account.Order.Product.Description.%.SKU`,
	`Account.Order.Product.Description.%.%.OrderID`,
	`Account.Order.Product.{"order": %.OrderID, "sku": SKU}`,
	`Account.Order@$o.Product[Price > 30]#$i.{"o": $o.OrderID, "i": $i}`,
	`[Account.Order.Product.Price]`, `[1, [2, 3], [[4]]]`, `[1..5]`, `[1..3, 7, 10..11]`,
	`[][0]`, `[1,2,3][1]`, `[1,2,3][[0,2]]`, `$[0]`,
	// numbers and strings
	`90.57 + 0.01`, `4/7`, `1e21`, `1e-7`, `0.1 + 0.2`, `-0`, `2 * -0.5`, `10 % 3`, `-7 % 3`,
	`$string(1e21)`, `$string(1/3)`, `$string(100000000000000000000)`, `$string(0.000001)`, `$string(1e-7)`,
	`$string(123.456e10)`, `$string({"a": 1.0000000000000002, "b": [0.1, 1e300]})`, `$string([1, "a", null, true], true)`,
	`$string(nums)`, `"a" & 1 & true & null & [1,2] & {"x": 1}`, `str & 1/3`,
	`$substring(str, 3)`, `$substring(str, -5, 3)`, `$substring("😀ab", 1, 1)`, `$length("😀ab")`,
	`$substringBefore(str, " ")`, `$substringAfter(str, "o")`, `$uppercase(str)`, `$trim("  a  b \n c ")`,
	`$pad("ab", 5, "-")`, `$pad("ab", -5, "xy")`, `$contains(str, /w/i)`, `$split(str, "o")`, `$split(str, /o/, 2)`,
	`$split("a1b22c", /\d+/)`, `$join(["a","b"], ", ")`, `$replace(str, "o", "0")`, `$replace(str, /(l+)/, "[$1]")`,
	`$replace("abc", /b/, function($m){ $uppercase($m.match) })`, `$match("ab12cd345", /\d+/)`, `$match("aXbX", /x/i, 1)`,
	`$number("0x1A")`, `$number("1e3")`, `$number(" 12")`, `$number("abc")`, `$number(true)`,
	`$formatNumber(1234.5678, "#,##0.00")`, `$formatNumber(0.125, "0.00")`, `$formatNumber(-12, "000")`,
	`$formatNumber(1234567.891, "#,###.##e0")`, `$formatNumber(0.5, "#%")`, `$formatNumber(12, "0;(0)")`, `$formatNumber(-12, "0;(0)")`,
	`$formatBase(255, 16)`, `$formatBase(-10, 2)`, `$formatInteger(1234, "#,##0")`, `$formatInteger(42, "w")`,
	`$formatInteger(2024, "I")`, `$formatInteger(28, "a")`, `$formatInteger(3, "1;o")`, `$parseInteger("twelve thousand, four hundred and one", "w")`,
	`$parseInteger("MCMLXXXIV", "I")`, `$parseInteger("1,234", "#,##0")`,
	`$round(2.5)`, `$round(3.5)`, `$round(-2.5)`, `$round(1.005, 2)`, `$round(12345, -2)`, `$floor(-1.5)`, `$ceil(1.2)`, `$abs(-3)`,
	`$power(2, 0.5)`, `$sqrt(2)`, `$sum(nums)`, `$max(nums)`, `$min([])`, `$average(nums)`, `$count(Account.Order.Product)`,
	// date/time
	`$fromMillis(1510067557121)`, `$fromMillis(1510067557121, "[Y0001]-[M01]-[D01]")`,
	`$fromMillis(1510067557121, "[H01]:[m01] [P] [FNn], [D1o] [MNn] [Y]", "-0500")`,
	`$fromMillis(1510067557121, "[Y,2] [M,3] [d] [W] [F1] [h]:[m]:[s].[f001] [z]", "+0530")`,
	`$toMillis("2017-11-07T15:12:37.121Z")`, `$toMillis("2017-11-07")`, `$toMillis("2017-11-07T15:12:37+01:00")`,
	`$toMillis("07/11/2017", "[D01]/[M01]/[Y0001]")`, `$toMillis("2018-03-27T14:03:00 +0100", "[Y]-[M]-[D]T[H]:[m]:[s] [Z]")`,
	`$toMillis("13 March 2019", "[D] [MNn] [Y]")`, `$toMillis("not a date")`,
	// functions, lambdas, HOFs
	`$map(nums, function($v, $i) { $v * $i })`, `$map([1,2,3], $string)`, `$filter(nums, function($v) { $v > 2 })`,
	`$reduce(nums, function($a, $b) { $a + $b })`, `$reduce([1,2,3], function($a, $b) { $a + $b }, 10)`,
	`$single(nums, function($v) { $v = 2 })`, `$sift(obj, function($v, $k) { $v > 1 })`, `$each(obj, function($v, $k) { $k & "=" & $v })`,
	`$keys(obj)`, `$keys(Account.Order.Product)`, `$spread(obj)`, `$merge([obj, {"z": 0, "b": 9}])`, `$lookup(Account.Order, "OrderID")`,
	`$sort([3, 1, 2])`, `$sort(Account.Order.Product, function($a, $b) { $a.Price < $b.Price }).Price`, `$reverse(nums)`,
	`$distinct([1, 2, 1, [1], [1], {"a": 1}, {"a": 1}])`, `$zip([1,2,3], ["a","b"])`, `$append(1, [2])`, `$append([], [])`,
	`$exists(nothing)`, `$type(nums)`, `$type($sum)`, `$type(null)`, `$boolean([0, false])`, `$boolean([[]])`, `$not("")`,
	`(function($x) { $x * 2 })(21)`, `λ($x){$x+1}(1)`, `($f := function($n) { $n <= 1 ? 1 : $n * $f($n - 1) }; $f(10))`,
	`($add := function($a, $b) { $a + $b }; $inc := $add(?, 1); $inc(41))`, `$substring(?, 0, 2)("hello")`,
	`($x := 5; ($x := 6); $x)`, `($count := function($l) { $count($l) }; 1)`, `"abc" ~> $uppercase`, `[1,2,3] ~> $map(function($v){$v*10}) ~> $sum`,
	`($f := $uppercase ~> $substring(?, 0, 2); $f("hello"))`, `(function($a, $b){ $a & $b })("x")`,
	`function($x) <n:n> { $x }("a")`, `$sum([1, "a"])`, `$string(function(){1})`, `$string({"f": function(){1}})`,
	`($loop := function($i) { $i = 0 ? "done" : $loop($i - 1) }; $loop(10000))`,
	// transforms
	`Account ~> |Order.Product|{"Price": Price * 2}, ["SKU", "Description"]|`, `$ ~> |obj|{"new": 1}|`, `| a | {"b": 1} |({"a": {}})`,
	// conditions and operators
	`t ? "yes" : "no"`, `n ? 1 : 2`, `nothing ? 1`, `1 = 1.0`, `"a" < "b"`, `[1,2] = [1,2]`, `obj = {"a": 2, "b": 1, "10": 3, "2": 4}`,
	`1 in nums`, `"x" in "x"`, `nums[0] and ""`, `empty or 0`, `3 > nothing`, `nothing = nothing`, `$not(nothing)`,
	// errors
	`1 + "a"`, `"a" - 1`, `1 < "a"`, `{} < 1`, `[1..1e8]`, `[1.5..3]`, `$undefinedFunction(1)`, `foo(1)`, `nums()`, `-"a"`,
	`$substring(1, 2)`, `$sum("a")`, `$error("boom")`, `$assert(false, "nope")`, `$single([1,2])`, `$sort([1, "a"])`,
	`{"a": 1, "a": 2}`, `{1: 2}`, `Account.Order.Product^($)`, `$formatBase(10, 40)`, `$formatNumber(1, "#.#.#")`, `$fromMillis(0, "[Q]")`,
	`$toMillis("2017-13-01", "[Y]-[M]-[D]")`, `$replace("a", "", "b")`, `$split("a", "b", -1)`, `$number("12a")`, `$sqrt(-1)`,
	`1 +`, `(1`, `[1,2`, `{"a"}`, `"unterminated`, `$x := `, `1 = = 2`, `/(/`, `a.1`, `function(1){1}`, `Account.%`, `%.a`,
	`$eval("1 + 1")`, `$eval("[1,2]", $)`, `$eval("1 +")`, `$clone(obj)`, `$base64encode("héllo")`, `$base64decode("aMOpbGxv")`,
	`$encodeUrlComponent("a b&c/d")`, `$encodeUrl("https://x.org/a b?q=1&r=é")`, `$decodeUrlComponent("a%20b%26")`, `$decodeUrl("%E2%82%AC%2F")`,
	`$decodeUrlComponent("%E2%82")`,
	// more: grouping, tuples, parents, sequences
	`Account.Order.Product{SKU: Quantity}`, `Account.Order.Product.{SKU: Quantity}`, `Account.Order{OrderID: Product.Price}`,
	`Account.Order.Product[Quantity > 1]{"big": $count($)}`, `Account.Order.Product.Price ~> $sum()`,
	`Account.Order.Product.(Price * Quantity)`, `$sum(Account.Order.Product.(Price * Quantity))`,
	`Account.Order@$o.Product@$p.{"o": $o.OrderID, "p": $p.SKU}`, `Account.Order#$i[$i > 0].OrderID`,
	`Account.Order.Product#$i.{"i": $i}`, `Account.Order.Product[0]#$i.SKU`, `(Account.Order.Product)[1].SKU`,
	`Account.Order.Product^(Price)[0].SKU`, `Account.Order.Product^(Price)#$i.{"i": $i, "p": Price}`,
	`Account.Order.Product.Description{Colour: $count(%)}`, `Account.Order.Product.Description.{"c": Colour, "o": %.%.OrderID}`,
	`Account.Order.Product.%`, `Account.Order.Product.Description[%.Price > 30].Colour`,
	`nums.($ * 2)`, `nums.[$ * 2]`, `[nums.$string()]`, `nums[$ % 2 = 0]`, `$.nums[0..1]`, `nums[[0..1]]`,
	`nested.*`, `nested[1].*`, `$count(nested.$)`, `[nested]`, `[[nested]]`, `nested[[0]]`,
	`single.$`, `[single]`, `single ~> $count`, `$count(single)`, `single[0][0]`, `$type(single)`, `$string(single)`,
	`"x".y`, `str.$length()`, `str[0]`, `t.t`, `n.n`, `$exists(n)`, `n = null`, `n ? 1 : 2`,
	`{"a": [1], "b": single, "c": single[]}`, `{"k": Account.Order.OrderID}`, `{"k": Account.Order[0].OrderID}`,
	`[{"a": 1}, {"a": [2, 3]}].a`, `[{"a": 1}, {"a": [2, 3]}].a[]`, `[{"a": [[1]]}].a`, `[[1], [2]].$`,
	`($a := [1,2,3]; $a[1])`, `($a := {"x": [1]}; $a.x)`, `($a := [[1,2]]; $a.$)`, `($a := [1]; $a)`,
	`$merge([])`, `$merge({"a": 1})`, `$sum([])`, `$sum(nothing)`, `$count(nothing)`, `$max([1, 3, 2])`,
	`$append(nums, single)`, `$append("a", "b")`, `$reverse("a")`, `$distinct(nums)`, `$sort(["b", "a", "C"])`,
	`$join([], "x")`, `$join(nothing)`, `$split("", "")`, `$split("abc", "")`, `$substring("abc", 5)`, `$substring("abc", -10, 2)`,
	`$uppercase(nothing)`, `$length("")`, `$pad("x", 0)`, `$trim("")`, `$contains("abc", "")`, `$replace("aaa", "a", "b", 2)`,
	`$replace("abc", /x/, "y")`, `$replace("a.b.c", ".", "-")`, `$replace("John Smith", /(\w+)\s(\w+)/, "$2, $1")`,
	`$replace("abc", /(b)/, "$$1 $0 $2")`, `$match("abc", /(x)?b/)`, `$split("a,b;c", /[,;]/)`, `$match("", /a/)`,
	`$number("1.50")`, `$number("-0")`, `$number(".5")`, `$number("1.")`, `$string(-0)`, `$string(1e100)`, `$string(123456789012345678)`,
	`$string(0.1 + 0.2)`, `$string(2/3)`, `$string(5e-324)`, `1.5e300 * 1e10`, `-1e-7`, `123456789012345678`, `0.000001234`,
	`$formatNumber(3.14159, "0.000")`, `$formatNumber(1e6, "#,###")`, `$formatNumber(0.0042, "0.0e0")`, `$formatNumber(42, "00.00%")`,
	`$formatNumber(-0.5, "0")`, `$formatNumber(1.5, "0")`, `$formatNumber(2.5, "0")`, `$formatNumber(1234.5, "#,##0.0", {"decimal-separator": ",", "grouping-separator": "."})`,
	`$formatInteger(0, "w")`, `$formatInteger(1000000, "W")`, `$formatInteger(99, "Ww;o")`, `$formatInteger(-5, "0")`, `$formatInteger(1234567, "#,##,##0")`,
	`$formatBase(3.5)`, `$formatBase(100, 36)`, `$round(0.5)`, `$round(-0.5)`, `$round(1.45, 1)`, `$round(-1.45, 1)`, `$round(1e20, 2)`,
	`$fromMillis(0)`, `$fromMillis(-1000)`, `$fromMillis(1e12, "[Y]-[M]-[D] [H]:[m]")`, `$fromMillis(1.5e12, "[D1o] [MNn,3-3] [Y0001] [E]")`,
	`$fromMillis(1510067557121, "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z]", "+0100")`, `$fromMillis(1510067557121, "[h]:[m01][P]", "-0800")`,
	`$toMillis("2017-11-07T15:12:37.1Z")`, `$toMillis("2017")`, `$toMillis("2017-11")`, `$toMillis("1970-01-01T00:00:00.001+00:00")`,
	`$toMillis("Monday, 7 November 2017", "[FNn], [D] [MNn] [Y]")`, `$toMillis("12/25/2020 3:04 pm", "[M]/[D]/[Y] [h]:[m] [P]")`,
	`$toMillis("2020-100", "[Y]-[d]")`, `$toMillis("10:30", "[H]:[m]")`, `$toMillis("1/1/99", "[M]/[D]/[Y,2]")`,
	`$toMillis("12:00 am", "[h]:[m] [P]")`, `$toMillis("7 March", "[D] [MNn]")`, `$toMillis("2020", "[Y]")`, `$toMillis("2020-W10-3", "[X]-W[W]-[F]")`,
	`$clone({"a": 0.1 + 0.2, "f": function(){1}})`, `{"a": 107.99 * 3} ~> |$|{"b": 1}|`, `$fromMillis(-0.1)`, `$fromMillis(-2.9)`,
	`$substringBefore("abc", nothing)`, `$substringAfter("abc", nothing)`, `$join(["a", "b"], nothing)`, `$formatNumber(1e21, "#,##0.00")`,
	`$substring("hello", nothing, 2)`, `$substring("hello", nothing)`,
	`$now()`, `$millis()`, `$now("[Y]-[M01]-[D01] [H]:[m]", "+0200")`, `$fromMillis($millis(), "[FNn]")`,
	`$boolean(0)`, `$boolean("0")`, `$boolean({})`, `$boolean([])`, `$boolean(null)`, `$boolean(nothing)`, `$not([1])`,
	`true and nothing`, `nothing or true`, `1 and 1`, `"" or []`, `{} and 1`,
	`1 = "1"`, `null = null`, `[] = []`, `{} = {}`, `nums = nums`, `1 != nothing`, `"b" > "a"`, `"B" < "a"`, `2 >= 2`,
	`"a" in ["a", "b"]`, `{"a":1} in [{"a":1}]`, `nothing in [1]`, `1 in nothing`,
	`[1,2,3] ~> $filter(function($v){$v>1}) ~> $count`, `$map([], function($v){$v})`, `$filter([1], function($v){false})`,
	`$map(nums, function($v, $i, $a) { $count($a) })`, `$filter(nums, function($v, $i) { $i = 1 })`, `$reduce([], function($a,$b){$a+$b})`,
	`$reduce([5], function($a,$b){$a+$b})`, `$reduce([1,2,3], function($a,$b,$i){$a+$b*$i})`, `$map([1,2], $substring("abc", ?, 1))`,
	`$sort([3,1,2], function($a,$b){$a < $b})`, `$sort(nums, function($a, $b){ $b - $a })`, `$single([5])`, `$single(nothing)`,
	`$each({"a":1,"b":2}, function($v){$v*2})`, `$sift({"a":1}, function($v){false})`, `$keys({})`, `$keys(nothing)`, `$keys("x")`,
	`$lookup({"a": 1}, "b")`, `$lookup([{"a": 1}, {"a": [2]}], "a")`, `$spread("x")`, `$spread([{"a":1,"b":2}])`,
	`$zip()`, `$zip([1,2])`, `$zip(1, 2)`, `$type(function(){1})`, `$type({})`, `$type(nothing)`,
	`function($f) { $f(2) }(function($x){$x*3})`, `($compose := function($f, $g) { function($x) { $g($f($x)) } }; $compose($uppercase, $length)("abc"))`,
	`($fib := function($n) { $n < 2 ? $n : $fib($n-1) + $fib($n-2) }; $fib(15))`, `($x := 1; $f := function() { $x }; $x := 2; $f())`,
	`(1; 2; 3)`, `()`, `(nothing)`, `[(1; 2)]`, `{"a": (1; 2)}`, `$ := 1`, `($$ := 2; $$)`,
	`$.Account.Order[0].OrderID`, `$$.Account.Order[0].OrderID`, `Account.Order[0].($$.str)`, `Account.Order[0].$.OrderID`,
	`Account."Account Name"`, "Account.`Account Name`", `Account.'Account Name'`, `$lookup(Account, "Account Name")`,
	`/* comment */ 1 + /* another */ 2`, `1 /* unterminated`,
	`$string(/ab/)`, `$match("x", "x")`, `$contains("abc", /B/i)`, `/b/("abc")`, `/b/("abc").start`, `$replace("abc", /b/, 1)`,
	`Account.Order.Product[$.Price = $max(%.Product.Price)].SKU`, `Account.Order.Product[SKU = "040657863"].%.OrderID`,
	`$count(Account.Order.Product[Description.Colour = "Purple"])`, `Account.Order[Product.Price > 100].OrderID`,
	`Account.Order.Product ~> |Description|{"Colour": "Red"}| ~> $count()`, `(Account ~> |**.Product|{"x": 1}|).Order[0].Product[0].x`,
	`{"a": {"b": 1}} ~> |a|{"c": 2}, "b"|`, `[{"a": 1}, {"a": 2}] ~> |$|{"b": a * 2}|`, `{"a": 1} ~> |$|"x"|`, `{"a": 1} ~> |$|{}, 1|`,
	`$number(null)`, `$abs(nothing)`, `$floor("a")`, `$power(10, 400)`, `$power(-8, 1/3)`, `$string(1/0)`, `1/0`, `$round(1/0)`,
	`$sum([1,2]) / 0`, `[1,2,3][$ = 4]`, `nums[$$.single[0] = 7]`, `$min(nums) < $max(nums) ? "ok" : "no"`,
	`$substring("hello", 1.5, 2.5)`, `$substring("hello", -1)`, `$pad("😀", 3, "é")`, `$length(nothing)`,
	`"\u00e9" & "\t"`, `$string("a\"b")`, `$string({"a\nb": "c"})`, `$string([1, [2, {"a": null}]], true)`,
	`$encodeUrlComponent("😀é")`, `$decodeUrlComponent("%F0%9F%98%80")`, `$decodeUrl("%3B%2F")`, `$decodeUrlComponent("%3B%2F")`,
	// batch 3
	`Account.Order@$o.Product{$o.OrderID: $sum(Price)}`, `Account.Order#$i.Product{$string($i): SKU}`, `Account.Order.Product@$p{$p.SKU: $p.Price}`,
	`Account.Order.Product{Description.Colour: {"n": $count($), "skus": SKU}}`, `Account.Order.Product{Description.Colour: SKU[]}`,
	`Account.Order.Product^(Description.Colour, >Price).SKU`, `Account.Order.Product^(Quantity)[0]`, `nums^(>$)`, `[3,1,2]^($)`, `["b","a"]^($)[0]`,
	`Account.Order.Product[0].Description.*[0]`, `Account.Order[0].Product.Description.(Width * Height)`,
	`$match("aaa", /a*?/)`, `$split("abc", /x*/)`, `$replace("abc", /x*/, "-")`, `$match("abab", /(a)(b)/)`, `$match("a1b2", /[a-z](\d)/, 5)`,
	`$replace("aaa", /a/, "b", 0)`, `$split("a b c", " ", 2)`, `$split("a b c", " ", 0)`, `$split("a", "a")`,
	`$string({"a": [1, 2], "b": {"c": "d"}}, true)`, `$string("x", true)`, `$string(true)`, `$string(null)`, `$string([])`,
	`$now("[Y]")`, `$fromMillis(1700000000000, "[F] [FNn,3-3] [w] [x] [X] [W]")`, `$fromMillis(1700000000000, "[Y0001,2-2]")`,
	`$fromMillis(1700000000000, "[M#1] [D#1] [H#1]")`, `$fromMillis(1700000000000, "[Y9,2]")`, `$fromMillis(1700000000000, "[MI] [Da] [dW]")`,
	`$fromMillis(1700000000000, "[[Y]] [Y] ]]")`, `$fromMillis(1700000000000, "[Z0] [Z0000] [z]", "-0330")`, `$fromMillis(1700000000000, "[C] [E] [P] [PN]")`,
	`$formatNumber(1234.5678, "#,##0.00;-#")`, `$formatNumber(0, "#")`, `$formatNumber(0.1, "#.##")`, `$formatNumber(12345.6, "#,##0.###,#")`,
	`$formatNumber(9.99, "0.0")`, `$formatNumber(1e-10, "0.00e00")`, `$formatNumber(123, "0000e0")`, `$formatNumber(-1234, "#,##0")`,
	`$formatNumber(0.256, "0‰")`, `$formatNumber(1, "a0b")`, `$formatNumber(100, "0", {"zero-digit": "٠"})`,
	`$formatInteger(123, "٠٠٠٠")`, `$formatInteger(1234567, "0,000")`, `$formatInteger(12, "00;o")`, `$formatInteger(21, "0;o")`, `$formatInteger(11, "0;o")`,
	`$formatInteger(1001, "w;o")`, `$formatInteger(1234567890123, "w")`, `$formatInteger(3, "A")`, `$formatInteger(0, "a")`, `$formatInteger(4999, "i")`,
	`$parseInteger("12th", "1;o")`, `$parseInteger("ab", "a")`, `$parseInteger("one hundred and twenty-three", "w")`, `$parseInteger("٣٤", "٠")`,
	`$parseInteger("1 234", "# ##0")`, `$parseInteger("xx", "1")`,
	`($f := function($a, $b) { $a + $b }; $f(1))`, `($f := function($a) { $a }; $f(1, 2, 3))`, `$sum(?)([1,2])`,
	`($p := $pad(?, 4, ?); $p("a", "*"))`, `($p := $pad(?, 4, ?); $p("a"))`, `($s := $substring(?, 1); $s)("abc")`,
	`$count(function(){1})`, `$sum([1, 2][0] = 1 ? [3, 4] : 5)`, `[1, 2, 3].($ + 1)[1]`, `$exists([])`, `$exists([nothing])`,
	`$string(1.23456789012345678)`, `$string(12345678901234567890)`, `$string(-1.5e-9)`, `$string(0.1 * 3)`, `0.1 * 3`, `1e21 + 1`, `-(1)`, `- nums`,
	`"a" = ["a"]`, `["a"] = "a"`, `[1] in [[1]]`, `$lookup({"a": null}, "a")`, `{"a": null}.a`, `[null].$`, `$count([null])`,
	`Account.Order[0].Product[0].Description ~> $keys()`, `$keys(Account.Order.Product.Description)`, `$each(Account.Order[0].Product[0].Description, function($v, $k){$k})`,
	`$spread({"a": {"b": 1}})`, `$merge([{"a":1}, nothing, {"b":2}])`, `$merge([{"a":1}, [{"c":3}]])`,
	`$distinct(Account.Order.Product.Description.Colour)`, `$reverse([[1], 2])`, `$shuffle([1]) `, `$sort([])`, `$sort(nothing)`,
	`$zip([1], [2], [3, 4])`, `$append([1], nothing)`, `$append(nothing, nothing)`, `$count([[]])`,
	`$uppercase("ß")`, `$lowercase("ÀÉ")`, `$length("\uD83D\uDE00")`, `$substring("a😀b", 1, 1)`, `$split("ab", "")`,
	`$contains("a😀b", "😀")`, `$replace("a😀b", /😀/, "x")`, `$match("😀a", /a/).index`, `$split("😀a😀", /a/)`,
	`$trim(" \u00a0a ")`, `$pad("abc", 2)`, `$join(["a", "b", "c"])`, `$join("a", "b")`, `$join([1], ",")`,
	`Account.Order.Product.Price.$string()`, `Account.Order.Product.(Price > 30 ? "hi" : "lo")`, `Account.Order.Product.($.Price)`,
	`$sum(Account.Order.Product.Price) = 198.56`, `$round($sum(Account.Order.Product.Price), 1)`, `$average([1, 2])`,
	`$max([])`, `$max(nothing)`, `$max([-1])`, `$min([0, -0])`, `$sqrt(0)`, `$power(0, 0)`, `$power(2, -1)`, `$abs(-0)`,
	`$floor(-0.5)`, `$ceil(-0.5)`, `$round(-0.4)`, `$round(0.049, 1)`, `$round(2.675, 2)`, `$round(1234.5678, -2)`,
	`$number("1e500")`, `$number("-1.5E-3")`, `$number("0b101")`, `$number("0o17")`, `$number("1_000")`, `$number([1])`,
	`$boolean(function(){1})`, `$boolean($sum)`, `$not(function(){1})`, `[false][0] ? 1 : 2`, `[false, true] ? 1 : 2`,
	`$type([1..3])`, `$type(1/3)`, `$type("")`, `$type(true)`, `$type($)`,
	`$error()`, `$error("x" & 1)`, `$assert(true)`, `$assert(1)`, `$assert(false)`,
	`$eval("[1,2,3].$", [])`, `$eval("$$")`, `$eval("(")`, `$eval(nothing)`, `$eval("$string(1/3)")`,
	`$clone(nothing)`, `$clone([1, {"a": [2]}])`, `$clone(1)`,
	`{"a": 1}.($x := a; $x + 1)`, `($a := 1; {"a": $a, "b": ($a := 2; $a)}).a`, `[1,2,3]@$v[$v > 1]`,
	`[1, 2, 3]#$i[$i > 0]`, `[{"a": 1}, {"a": 2}]#$i.{"a": a, "i": $i}`, `[{"a": [1, 2]}].a@$x.$x`,
	`[1,2,3][0..1]`, `[1..3][]`, `[1..3][$ < 0][]`, `[[1..3]][0]`, `[1, [2], [[3]]][2]`, `[1, [2], [[3]]].$`,
	`$filter([{"a": 1}, {"a": 2}], function($v) { $v.a = 2 })`, `$filter([1, 2], function($v) { $v })[0]`,
	`{"a": [{"b": 1}, {"b": 2}]}.a.b[0]`, `{"a": [{"b": [1, 2]}, {"b": [3]}]}.a.b[0]`, `{"a": [{"b": [1, 2]}, {"b": [3]}]}.a.(b[0])`,
	`{"a": [{"b": [1, 2]}, {"b": [3]}]}.a.b[-1]`, `{"a": [{"b": [1, 2]}, {"b": [3]}]}.a[1].b`, `{"a": [[1, 2]]}.a[0]`,
	// batch 4: syntax, signatures, errors
	"`Account`.`Order`[0].`OrderID`", "{`a b`: 1}", `"\u00e9\n\"q\""`, `'it''s'`, `'a\'b'`, `"\x"`, `"\u12"`, `1.`, `.5`, `1e`, `1e+`, `0x10`, `00`, `1.5.2`,
	`$λ := 1`, `λ($x){$x}(2)`, `function($x, $y){$x & $y}("a", "b")`, `function($x) <s:s> { $x }(1)`, `function($x) <a<s>:n> { $count($x) }(["a"])`,
	`function($x) <a<s>:n> { $count($x) }([1])`, `function($x) <a<s>:n> { $count($x) }("a")`, `function($x) <x-:s> { $string($x) }()`,
	`function($f) <f:n> { $f(1) }(function($v){$v + 1})`, `function($x) <(sn)> { $x }(true)`, `function($x) <b?> { $x }()`,
	`function($x) <n+:n> { $x }(1, 2)`, `function($x) <q> { $x }(1)`, `function($x) <s<s>> { $x }("a")`, `function($x) <(s<s>)> { $x }("a")`,
	`function($x) <o:o> { $x }({"a": 1})`, `function($x) <j:j> { $x }(function(){1})`, `function($x) <l:l> { $x }(null)`,
	`function(a){1}`, `function($a, 1){1}`, `$f := function($x){$x}; $f(1)`, `($f := function($x){$x}; $f(1)`, `1 := 2`, `$a.b := 2`,
	`[1,2,3]@a`, `[1,2,3]#1`, `[1,2][0]@$x`, `[1,2]^($)@$x`, `Account.Order{"a": 1}{"b": 2}`, `Account.Order{"a": 1}[0]`,
	`$sum(1, 2)`, `$count()`, `$substring()`, `$uppercase(1)`, `$keys(1, 2)`, `$length(["a"])`, `$join(["a", 1])`, `$max(["a"])`,
	`$foo`, `$foo()`, `$foo(?)`, `Account()`, `"abc"()`, `1 ~> $foo`, `1 ~> 2`, `$sum ~> $count`, `($f := $sum ~> $string; $f([1,2]))`,
	`"a" ~> $substring(1)`, `"abc" ~> $substring(?, 1)`, `[1,2] ~> $append(3)`, `{"a": 1} ~> $keys`, `(1; 2) ~> $string`,
	`nothing ~> $string()`, `nothing ~> $count()`, `$string(nothing)`, `$exists(Account.Nope)`, `Account.Nope.x`, `Account.Nope[0]`,
	`|a|{}|`, `$ ~> |Account|{"x": 1}|.Account.x`, `$ ~> |Account.Order|{"n": $count(Product)}|.Account.Order.n`,
	`$ ~> |nums|{"x": 1}|.nums`, `$ ~> |Account|{"x": 1}, "Account Name"|.Account`, `$ ~> |Account|nothing|.Account.Order[0].OrderID`,
	`$ ~> |Account|{}, 5|`, `$ ~> |Account|[1]|`, `{"a": [1, {"b": 2}]} ~> |a|{"c": 3}|`, `$clone := 1; $ ~> |a|{}|`,
	`($clone := 5; {"a": 1} ~> |$|{"b": 2}|)`, `[1, 2] ~> |$|{"x": 1}|`, `"s" ~> |$|{"x": 1}|`,
	`/a/i`, `$match("AbA", /a/i)`, `$match("a\nb", /^b/m)`, `$match("a\nb", /a.b/)`, `$replace("a.b", /\./, "!")`, `$split("a1b", /\d/)[1]`,
	`$match("abc", /(?<x>b)/)`, `$match("aaa", /a{2}/)`, `$match("xyz", /[^x]/)`, `$match("a-b", /[a\-]/)`, `$match("tab\t", /\t/)`,
	`$match("é", /\w/)`, `$match("a b", /\s/)`, `$match("x", /(a)|x/)`, `$replace("abc", /(a)|(z)/, "[$1$2]")`, `$match("ab", /(?:a)(b)/).groups`,
	`$contains("abc", /^b/)`, `$contains("a/b", /\//)`, `/[/]/("a/b")`, `$split("2020-01-02", /-/)`, `$replace("aaa", /a/, function($m) { $m.index })`,
	`$replace("aaa", /a/, function($m) { "" & $m.start })`, `$replace("abc", /b/, function($m){ $m.groups })`,
	`Account.Order.Product.SKU ~> $join(",")`, `Account.Order.Product.$keys($)[0]`, `Account.Order.Product.Description.Colour[1]`,
	`(Account.Order.Product.Description.Colour)[1]`, `Account.Order.Product.Description.Colour[[0,2]]`, `Account.Order.Product[[1,2]].SKU`,
	`Account.Order.Product[-2..-1]`, `Account.Order.Product[Price][0].SKU`, `Account.Order.Product["x"].SKU`, `Account.Order.Product[0.9].SKU`,
	`Account.Order.Product[true].SKU`, `Account.Order.Product[[true]].SKU`, `Account.Order.Product[null].SKU`, `Account.Order.Product[{}].SKU`,
	`Account.Order.Product[Quantity = 1 and Price > 100].SKU`, `Account.Order[Product[Price > 100]].OrderID`, `Account.Order.Product[$ = $].SKU`,
	`$count(**)`, `$count(Account.**)`, `$.**.OrderID`, `**.Price[0]`, `Account.*.*.OrderID`, `*.*.*[0].OrderID`, `Account.Order.*[0]`,
	`nested.**`, `$count([[1,[2]],3].**)`, `{"a": {"b": {"c": 1}}}.**.c`, `{"a": [{"b": 1}, {"b": 2}]}.**.b`,
	`$eval("$x", {"x": 1})`, `$eval("a", {"a": 2})`, `$eval("nums[0]")`,
}

const diffScript = `
// the same fixed clock as the Go side ($now, $millis, and the defaults of
// $toMillis pictures that leave out the date)
const RealDate = Date;
global.Date = class extends RealDate {
  constructor(...a) { if (a.length === 0) super(1700000000000); else super(...a); }
  static now() { return 1700000000000; }
};
const jsonata = require(process.argv[2]);
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
(async () => {
  const out = [];
  for (const expr of input.exprs) {
    try {
      const r = await jsonata(expr).evaluate(JSON.parse(JSON.stringify(input.doc)), undefined);
      const isFn = (x) => typeof x === 'function' || (x && (x._jsonata_lambda || x._jsonata_function));
      out.push(r === undefined ? {u: true} : isFn(r) ? {f: true} : {v: JSON.stringify(r, (k, v) => (typeof v === 'number' && !isFinite(v)) ? 'NONFINITE' : v)});
    } catch (e) {
      out.push({e: e.code || String(e.message || e)});
    }
  }
  process.stdout.write(JSON.stringify(out));
})();
`

type diffResult struct {
	V *string `json:"v"`
	U bool    `json:"u"`
	F bool    `json:"f"` // the result is a function: not comparable
	E string  `json:"e"`
}

func TestDifferential(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	mod, _ := filepath.Abs(jsonataModule)
	if _, err := os.Stat(mod); err != nil {
		t.Skip("jsonata module not installed")
	}
	doc, err := value.ParseString(diffDoc)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "diff.js")
	if err := os.WriteFile(script, []byte(diffScript), 0o600); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"exprs": diffExprs, "doc": json.RawMessage(diffDoc)})
	cmd := exec.Command(node, script, mod)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v: %s", err, stderr.String())
	}
	var want []diffResult
	if err := json.Unmarshal(outb, &want); err != nil {
		t.Fatal(err)
	}
	pass := 0
	for i, src := range diffExprs {
		w := want[i]
		got := evalForDiff(src, doc)
		switch {
		case strings.Contains(src, "$random") || strings.Contains(src, "$shuffle"):
			pass++
		case w.E != "" && got.E != "":
			// jsonata-js errors without a code are its own crashes (TypeError):
			// any error will do
			if w.E == got.E || !isCode(w.E) {
				pass++
			} else {
				t.Errorf("%s: error %s, jsonata-js %s", src, got.E, w.E)
			}
		case w.F:
			pass++
		case w.E != "" && !isCode(w.E):
			pass++ // jsonata-js crashed (a TypeError): nothing to agree with
		case w.E != "":
			t.Errorf("%s: got %s, jsonata-js error %s", src, got.describe(), w.E)
		case w.U:
			if got.U {
				pass++
			} else {
				t.Errorf("%s: got %s, jsonata-js undefined", src, got.describe())
			}
		case w.V != nil && strings.Contains(*w.V, "NONFINITE"):
			if got.E == "D1001" {
				pass++
			} else {
				t.Errorf("%s: got %s, want D1001 for a non-finite result", src, got.describe())
			}
		default:
			if got.V != nil && *got.V == *w.V {
				pass++
			} else {
				t.Errorf("%s: got %s, jsonata-js %s", src, got.describe(), *w.V)
			}
		}
	}
	t.Logf("differential: %d/%d expressions agree with jsonata-js", pass, len(diffExprs))
	if value.String(doc) != value.String(mustParse(t, diffDoc)) {
		t.Errorf("evaluation modified its input")
	}
}

func isCode(s string) bool {
	return len(s) == 5 && strings.ContainsRune("STDU", rune(s[0]))
}

func (r diffResult) describe() string {
	switch {
	case r.E != "":
		return "error " + r.E
	case r.U:
		return "undefined"
	case r.V != nil:
		return *r.V
	}
	return "?"
}

func evalForDiff(src string, doc any) diffResult {
	e, err := Compile(src)
	if err != nil {
		return diffResult{E: err.(*Error).Code}
	}
	v, ok, err := e.Eval(Env{Input: doc, HasInput: true, Now: time.Unix(1700000000, 0)})
	if err != nil {
		return diffResult{E: err.(*Error).Code}
	}
	if !ok {
		return diffResult{U: true}
	}
	s := value.String(v)
	return diffResult{V: &s}
}
