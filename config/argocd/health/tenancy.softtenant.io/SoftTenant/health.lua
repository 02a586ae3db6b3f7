-- Argo CD health check for tenancy.softtenant.io/SoftTenant.
--
-- Reads the kstatus-style conditions the operator maintains (Ready, Reconciling, Stalled,
-- Enforced) and status.observedGeneration. Written for Argo CD's Lua VM (gopher-lua, Lua 5.1)
-- with only the libraries Argo CD opens for custom checks (base and table; no string or math),
-- so it uses no string methods, no goto, no integer division and no bitwise operators.
-- Tested with lua5.1 and lua5.4 against health_test.yaml (test/unit/argocd-health.test.ts).

local function condition(conditions, kind)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function says(c, default)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return default
end

local hs = {}

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "SoftTenant is being deleted: the operator is removing its NetworkPolicies and namespace labels"
  return hs
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile the SoftTenant"
  return hs
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe the latest spec"
  return hs
end

local stalled = condition(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = says(stalled, "The operator cannot make progress")
  return hs
end

local reconciling = condition(status.conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = says(reconciling, "The operator is applying the tenant's namespaces and policies")
  return hs
end

-- A node that should enforce the tenant's policies but does not (its agent is dead, stale or
-- failing) is a fault; nodes that have simply not caught up yet are progress.
local enforced = condition(status.conditions, "Enforced")
if enforced ~= nil and enforced.status ~= "True" then
  if enforced.reason == "NotEnforced" then
    hs.status = "Degraded"
    hs.message = says(enforced, "The tenant's policies are not enforced on every node")
  else
    hs.status = "Progressing"
    hs.message = says(enforced, "Waiting for the node agents to enforce the tenant's policies")
  end
  return hs
end

local ready = condition(status.conditions, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  local default = "Applied and enforced"
  if status.enforcement ~= nil and status.enforcement.summary ~= nil then
    default = default .. " on " .. status.enforcement.summary .. " nodes"
  end
  hs.message = says(ready, default)
  return hs
end

hs.status = "Progressing"
hs.message = says(ready, "Waiting for the SoftTenant to become Ready")
return hs
