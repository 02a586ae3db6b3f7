-- Runs an Argo CD health.lua the way Argo CD runs a custom health check, and prints the result.
-- Usage: lua argocd-health-harness.lua HEALTH_LUA INPUT_LUA
-- INPUT_LUA is a chunk returning the resource as a Lua table (the test converts YAML to it).
-- Argo CD (gopher-lua, Lua 5.1) opens only the base, table, package and a "safe" os library for
-- scripts from argocd-cm; the chunk here gets base functions and table, nothing else, so a
-- script that relies on string or math fails here as it would in Argo CD.
-- Prints {"status":...,"message":...} on stdout; exits non-zero if the script errors or does
-- not return a table. Works with lua5.1 and lua5.4.

local script_path, input_path = arg[1], arg[2]
local f = assert(io.open(script_path, "r"))
local src = f:read("*a")
f:close()
local input = assert(loadfile(input_path))()

local env = {}
local base = {
  "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "print", "rawequal",
  "rawget", "rawset", "select", "setmetatable", "tonumber", "tostring", "type", "unpack", "xpcall",
}
for _, name in ipairs(base) do
  env[name] = _G[name]
end
env.table = table
env._G = env
env.obj = input

local chunk, err
if setfenv then
  chunk, err = loadstring(src, "=health.lua")
  if chunk then
    setfenv(chunk, env)
  end
else
  chunk, err = load(src, "=health.lua", "t", env)
end
if not chunk then
  io.stderr:write("health.lua does not load: ", tostring(err), "\n")
  os.exit(2)
end

local ok, hs = pcall(chunk)
if not ok then
  io.stderr:write("health.lua failed: ", tostring(hs), "\n")
  os.exit(3)
end
if type(hs) ~= "table" then
  io.stderr:write("health.lua returned a ", type(hs), ", not a table\n")
  os.exit(4)
end

local function quote(s)
  if s == nil then
    return "null"
  end
  s = tostring(s)
  s = s:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end
io.write("{\"status\":", quote(hs.status), ",\"message\":", quote(hs.message), "}\n")
