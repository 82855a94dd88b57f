"""The one agent contract the training loop drives: skrl's ``Agent``.

Every agent, the classic four (skrl's own classes) and the diffusion agents alike, is a
``skrl.agents.torch.Agent`` and is driven only through:

- ``init(trainer_cfg=...)``; ``enable_training_mode(bool)``;
- ``pre_interaction(timestep=, timesteps=)``;
  ``act(observations, states, timestep=, timesteps=) -> (actions, outputs)``;
- ``record_transition(observations=, states=, actions=, rewards=, next_observations=, next_states=,
  terminated=, truncated=, infos=, timestep=, timesteps=)`` where ``next_observations`` holds the
  true final observation of an episode that just ended (see ``benchmark.loop``);
- ``post_interaction(timestep=, timesteps=)``: learns when its schedule says so;
- ``checkpoint_modules``: ``{name: module with state_dict/load_state_dict}``;
- ``tracking_data``: ``{tag: [values]}``; the loop reads and clears it every log interval.

For evaluation an agent may define ``act_deterministic(observations) -> actions``; otherwise the
policy model's mean action (Gaussian) or its action (deterministic models) is used.
"""

from __future__ import annotations

import torch


@torch.no_grad()
def deterministic_action(agent, observations: torch.Tensor) -> torch.Tensor:
    if hasattr(agent, "act_deterministic"):
        return agent.act_deterministic(observations)
    inputs = {"observations": agent._observation_preprocessor(observations), "states": None}
    actions, outputs = agent.policy.act(inputs, role="policy")
    return outputs.get("mean_actions", actions)


def module_states(agent) -> dict:
    return {name: m.state_dict() for name, m in agent.checkpoint_modules.items() if m is not None}


def load_module_states(agent, states: dict) -> None:
    for name, state in states.items():
        agent.checkpoint_modules[name].load_state_dict(state)
