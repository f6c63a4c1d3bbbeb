using System.Text;
using System.Text.Json.Nodes;

namespace Ulmfit.Tests.IO;

/// <summary>
/// Structural damage to a JSON document that stays valid JSON, so it reaches the schema and range checks rather than
/// the syntax checks: a field removed, renamed, duplicated in spirit (added unknown), or its value replaced by one of
/// another type or an extreme value.
/// </summary>
sealed class JsonMutator(Random random)
{
    static readonly Func<JsonNode?>[] Replacements =
    [
        () => null, () => JsonValue.Create(-1), () => JsonValue.Create(0), () => JsonValue.Create(1e308),
        () => JsonValue.Create(long.MaxValue), () => JsonValue.Create(0.999999), () => JsonValue.Create(""),
        () => JsonValue.Create(new string('z', 5000)), () => JsonValue.Create(true), () => new JsonArray(),
        () => new JsonArray(JsonValue.Create(1), null), () => new JsonObject(), () => JsonValue.Create("language-model"),
        () => JsonValue.Create("2025-01-01T00:00:00+02:00"), () => JsonValue.Create("../weights.safetensors"),
    ];

    public byte[] Mutate(byte[] json, out string what)
    {
        JsonNode root = JsonNode.Parse(json)!;
        var nodes = new List<JsonNode>();
        var pending = new Stack<JsonNode>([root]);
        while (pending.Count > 0)
        {
            JsonNode node = pending.Pop();
            nodes.Add(node);
            IEnumerable<JsonNode?> children = node switch { JsonObject o => o.Select(kv => kv.Value), JsonArray a => a, _ => [] };
            foreach (JsonNode? child in children)
                if (child is not null) pending.Push(child);
        }
        JsonNode target = nodes[random.Next(nodes.Count)];
        what = target.GetPath();
        switch (target.Parent)
        {
            case JsonObject parent:
            {
                string name = parent.Single(kv => ReferenceEquals(kv.Value, target)).Key;
                switch (random.Next(4))
                {
                    case 0: parent.Remove(name); what = $"remove {what}"; break;
                    case 1: parent.Remove(name); parent[name + "_x"] = target; what = $"rename {what}"; break;
                    case 2: parent["unexpected_" + random.Next(100)] = 1; what = $"add a field beside {what}"; break;
                    default: parent[name] = Replacements[random.Next(Replacements.Length)](); what = $"replace {what}"; break;
                }
                break;
            }
            case JsonArray array:
            {
                int index = array.IndexOf(target);
                if (random.Next(2) == 0) { array.RemoveAt(index); what = $"remove {what}"; }
                else { array[index] = Replacements[random.Next(Replacements.Length)](); what = $"replace {what}"; }
                break;
            }
            default:
                what = "root unchanged";
                break;
        }
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }
}
